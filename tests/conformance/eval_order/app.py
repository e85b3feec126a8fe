"""Evaluation order: every probe call is written to a shared Logger, so the order in which
remote calls run (and whether local self-mutations happen before them) is observable."""
from typing import Dict, List

from stateflow import stateflow


def combine(x: int, y: int, z: int = 0) -> List[int]:
    return [x, y, z]


@stateflow
class Logger:
    def __init__(self, name: str):
        self.name: str = name
        self.entries: List[str] = []

    def __key__(self):
        return self.name

    def log(self, entry: str) -> int:
        self.entries.append(entry)
        return len(self.entries)

    def read(self) -> List[str]:
        return list(self.entries)

    def clear(self) -> int:
        n = len(self.entries)
        self.entries = []
        return n


@stateflow
class Probe:
    def __init__(self, name: str, logger: Logger):
        self.name: str = name
        self.logger: Logger = logger
        self.hits: int = 0

    def __key__(self):
        return self.name

    def val(self, x: int) -> int:
        self.hits += 1
        self.logger.log(f"{self.name}.val({x})")
        return x

    def label(self) -> str:
        self.hits += 1
        self.logger.log(f"{self.name}.label")
        return self.name

    def poke(self, w: "Wallet") -> int:
        self.logger.log(f"{self.name}.poke")
        w.charge(1)
        return 100

    def peek(self, w: "Wallet") -> int:
        self.logger.log(f"{self.name}.peek")
        return w.get_balance() * 10


@stateflow
class Wallet:
    def __init__(self, owner: str, balance: int):
        self.owner: str = owner
        self.balance: int = balance
        self.bumps: int = 0
        self.table: Dict[str, int] = {}

    def __key__(self):
        return self.owner

    def get_balance(self) -> int:
        return self.balance

    def charge(self, n: int) -> int:
        self.balance -= n
        return self.balance

    def bump(self) -> int:
        self.bumps += 1
        self.balance += 1
        return self.bumps

    def three(self, a: Probe, b: Probe, c: Probe) -> int:
        return a.val(1) + b.val(2) * c.val(3)

    def args_order(self, a: Probe, b: Probe) -> List[int]:
        return combine(a.val(1), b.val(2), z=a.val(3))

    def nested(self, a: Probe, b: Probe) -> int:
        return a.val(b.val(5) + 1)

    def dict_order(self, a: Probe, b: Probe) -> Dict[str, int]:
        return {a.label(): b.val(1), b.label(): a.val(2)}

    def store_order(self, a: Probe, b: Probe) -> Dict[str, int]:
        self.table[a.label()] = b.val(7)
        return dict(self.table)

    def unpack_order(self, a: Probe, b: Probe) -> List[int]:
        x, y = b.val(1), a.val(2)
        return [x, y]

    def fstring_order(self, a: Probe, b: Probe) -> str:
        return f"{b.label()}-{a.label()}-{b.val(9)}"

    def bump_then_peek(self, p: Probe) -> List[int]:
        return [self.bump(), p.peek(self), self.bump()]

    def bump_plus_peek(self, p: Probe) -> int:
        return self.bump() + p.peek(self)

    def balance_plus_callback(self, p: Probe) -> int:
        return self.balance + p.poke(self)

    def callback_plus_balance(self, p: Probe) -> int:
        return p.poke(self) + self.balance

    def aug_with_callback(self, p: Probe) -> int:
        self.balance += p.poke(self)
        return self.balance

    def local_copy_then_callback(self, p: Probe) -> List[int]:
        before = self.balance
        got = p.poke(self)
        after = self.balance
        return [before, got, after]
