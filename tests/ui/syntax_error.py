from stateflow import stateflow


@stateflow
class Account:
    def __init__(self, iban: str):
        self.iban: str = iban

    def __key__(self):
        return self.iban

    def deposit(self, amount: int) -> int
        return amount
