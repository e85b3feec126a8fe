"""A bank that opens accounts: entities created inside methods (positional and keyword
constructor arguments, defaults), the new reference returned, stored, called right away,
and passed on to other entities."""
from typing import Dict, List

from stateflow import stateflow


@stateflow
class Account:
    def __init__(self, iban: str, owner: str, limit: int = 0):
        self.iban: str = iban
        self.owner: str = owner
        self.limit: int = limit
        self.balance: int = 0

    def __key__(self):
        return self.iban

    def deposit(self, amount: int) -> int:
        self.balance += amount
        return self.balance

    def withdraw(self, amount: int) -> int:
        if self.balance - amount < -self.limit:
            raise ValueError("over limit")
        self.balance -= amount
        return self.balance

    def describe(self) -> str:
        return f"{self.iban}/{self.owner}/{self.balance}/{self.limit}"


@stateflow
class Customer:
    def __init__(self, name: str):
        self.name: str = name
        self.accounts: List[Account] = []

    def __key__(self):
        return self.name

    def attach(self, acc: Account) -> int:
        self.accounts.append(acc)
        return len(self.accounts)

    def net_worth(self) -> int:
        total = 0
        for acc in self.accounts:
            total += acc.balance
        return total


@stateflow
class Bank:
    def __init__(self, name: str):
        self.name: str = name
        self.opened: Dict[str, Account] = {}
        self.count: int = 0

    def __key__(self):
        return self.name

    def open_account(self, iban: str, owner: str, initial: int) -> Account:
        acc = Account(iban, owner)
        acc.deposit(initial)
        self.opened[iban] = acc
        self.count += 1
        return acc

    def open_with_limit(self, iban: str, owner: str, limit: int) -> str:
        acc = Account(iban, owner=owner, limit=limit)
        self.opened[iban] = acc
        self.count += 1
        acc.withdraw(limit)
        return acc.describe()

    def open_for(self, customer: Customer, iban: str, initial: int) -> int:
        acc = self.open_account(iban, customer.name, initial)
        return customer.attach(acc)

    def open_series(self, prefix: str, owner: str, n: int) -> List[Account]:
        made: List[Account] = []
        for i in range(n):
            acc = Account(f"{prefix}{i}", owner, limit=i * 10)
            acc.deposit(i)
            made.append(acc)
            self.opened[acc.iban] = acc
        self.count += n
        return made

    def quick_describe(self, iban: str) -> str:
        return Account(iban, "walk-in").describe()

    def total(self) -> int:
        s = 0
        for iban in self.opened:
            s += self.opened[iban].balance
        return s
