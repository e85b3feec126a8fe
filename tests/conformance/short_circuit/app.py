"""Feature flags: a Gate evaluates `and` / `or` expressions whose operands are remote
calls; every Flag counts how often it was asked, so skipped calls are observable."""
from typing import List, Optional

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

    def text(self) -> str:
        self.calls += 1
        if self.on:
            return self.name
        return ""

    def tick(self) -> bool:
        self.calls += 1
        self.level -= 1
        return self.level > 0

    def get_calls(self) -> int:
        return self.calls


@stateflow
class Gate:
    def __init__(self, name: str):
        self.name: str = name
        self.decisions: List[str] = []

    def __key__(self):
        return self.name

    def and_(self, pre: bool, f: Flag) -> bool:
        return pre and f.check()

    def or_(self, pre: bool, f: Flag) -> bool:
        return pre or f.check()

    def both(self, a: Flag, b: Flag) -> bool:
        return a.check() and b.check()

    def either(self, a: Flag, b: Flag) -> bool:
        return a.check() or b.check()

    def mixed(self, a: Flag, b: Flag, c: Flag) -> bool:
        return a.check() and b.check() or c.check()

    def text_or_default(self, f: Flag, default: str) -> str:
        return f.text() or default

    def decide(self, a: Flag, b: Flag) -> str:
        if a.check() or not b.check():
            self.decisions.append("go")
            return "go"
        self.decisions.append("stop")
        return "stop"

    def guard(self, f: Optional[Flag]) -> bool:
        return f is not None and f.check()

    def count_ticks(self, limit: int, f: Flag) -> int:
        n = 0
        while n < limit and f.tick():
            n += 1
        return n
