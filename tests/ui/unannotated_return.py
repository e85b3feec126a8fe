from stateflow import stateflow


@stateflow
class Account:
    def __init__(self, iban: str):
        self.iban: str = iban
        self.balance: int = 0

    def __key__(self):
        return self.iban

    def deposit(self, amount: int):
        self.balance += amount
        return self.balance
