from typing import Optional

from stateflow import stateflow


@stateflow
class Account:
    def __init__(self, iban: str):
        self.iban: str = iban
        self.balance: int = 0

    def __key__(self):
        return self.iban

    def deposit(self, amount: int) -> None:
        self.balance += amount
        return self.balance


@stateflow
class Bank:
    def __init__(self, name: str):
        self.name: str = name
        self.main: Optional[Account] = None

    def __key__(self):
        return self.name

    def open_account(self, iban: str) -> str:
        account = Account(iban)
        self.main = account
        return account
