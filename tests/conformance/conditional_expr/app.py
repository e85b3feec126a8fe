"""Feature flags: conditional expressions (`x if f.check() else y`, `b.f() if cond else
c.g()`, nested) and chained comparisons of remote calls; every Flag counts how often it
was asked, so calls that must not run are observable."""
from typing import List

from stateflow import stateflow


@stateflow
class Flag:
    def __init__(self, name: str, on: bool, level: int):
        self.name: str = name
        self.on: bool = on
        self.level: int = level
        self.calls: int = 0

    def __key__(self):
        return self.name

    def check(self) -> bool:
        self.calls += 1
        return self.on

    def number(self) -> int:
        self.calls += 1
        return self.level

    def get_calls(self) -> int:
        return self.calls


@stateflow
class Gate:
    def __init__(self, name: str):
        self.name: str = name
        self.decisions: List[str] = []

    def __key__(self):
        return self.name

    def pick_by_flag(self, f: Flag, x: int, y: int) -> int:
        return x if f.check() else y

    def pick_call(self, cond: bool, b: Flag, c: Flag) -> int:
        return b.number() if cond else c.number()

    def pick_nested(self, a: Flag, b: Flag, c: Flag) -> int:
        return b.number() if a.check() else (c.number() if c.check() else -1)

    def ordered(self, a: Flag, b: Flag, c: Flag) -> bool:
        return a.number() < b.number() < c.number()

    def score(self, a: Flag, b: Flag) -> int:
        bonus = 10 if a.check() and b.number() > 2 else 0
        return bonus + (a.number() if not a.check() else 1)

    def route(self, a: Flag, b: Flag) -> str:
        choice = f"{a.number() if a.check() else b.number()}"
        self.decisions.append(choice)
        return choice

    def in_range(self, lo: int, f: Flag, hi: int) -> bool:
        return lo <= f.number() < hi
