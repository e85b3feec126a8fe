class Account:
    def __init__(self, iban: str):
        self.iban = iban
        self.balance = 0

    def deposit(self, amount: int) -> int:
        self.balance += amount
        return self.balance
