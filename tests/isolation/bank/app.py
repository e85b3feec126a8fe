"""A bank whose methods race without per-entity isolation (tests/isolation/README.md).

`transfer` and `receive` read a field, call another entity, then write the field from the
value they read: if another request changes the account while they wait, its change is
lost (money appears or vanishes, balances go negative). `transfer_checked` also calls back
into the payer while the payer is suspended (A -> B -> A), which must not block.
"""
from stateflow import stateflow


class InsufficientFunds(Exception):
    pass


@stateflow
class Account:
    def __init__(self, iban: str, balance: int):
        self.iban: str = iban
        self.balance: int = balance
        self.received: int = 0

    def __key__(self):
        return self.iban

    def get_balance(self) -> int:
        return self.balance

    def deposit(self, amount: int) -> int:
        self.balance += amount
        return self.balance

    def withdraw(self, amount: int) -> int:
        if amount > self.balance:
            raise InsufficientFunds(self.iban)
        self.balance -= amount
        return self.balance

    def transfer(self, amount: int, to: "Account") -> bool:
        balance = self.balance
        if balance < amount:
            return False
        to.deposit(amount)
        self.balance = balance - amount
        return True

    def transfer_checked(self, amount: int, to: "Account") -> bool:
        balance = self.balance
        if balance < amount:
            return False
        to.receive(amount, self)
        self.balance = balance - amount
        return True

    def receive(self, amount: int, payer: "Account") -> int:
        before = self.balance
        payer_balance = payer.get_balance()
        self.balance = before + amount
        self.received += 1
        return payer_balance
