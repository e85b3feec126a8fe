from __future__ import annotations

from decimal import Decimal

from stateflow import stateflow


@stateflow
class Account:
    def __init__(self, iban: str):
        self.iban: str = iban
        self.balance: int = 0

    def __key__(self):
        return self.iban

    def deposit(self, amount: Money) -> int:
        self.balance += int(amount)
        return self.balance

    def rate(self, r: Decimal) -> int:
        return int(r)
