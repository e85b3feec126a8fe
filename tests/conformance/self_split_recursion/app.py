"""A launch controller: methods of self that make remote calls (split methods called on
self from expressions, conditions and loops), recursion through self where every level
makes a remote call, and mutual recursion between two split methods of self."""
from typing import List

from stateflow import stateflow


@stateflow
class Clock:
    def __init__(self, name: str):
        self.name: str = name
        self.ticks: int = 0
        self.trace: List[str] = []

    def __key__(self):
        return self.name

    def tick(self, note: str) -> int:
        self.ticks += 1
        self.trace.append(note)
        return self.ticks


@stateflow
class Controller:
    def __init__(self, name: str, clock: Clock):
        self.name: str = name
        self.clock: Clock = clock
        self.stages: List[int] = []
        self.depth: int = 0

    def __key__(self):
        return self.name

    def stamp(self, note: str) -> int:
        t = self.clock.tick(note)
        self.stages.append(t)
        return t

    def local_part(self) -> int:
        return len(self.stages) * 100

    def combined(self) -> int:
        return self.local_part() + self.stamp("combined") * 2

    def stamp_twice(self) -> List[int]:
        return [self.stamp("first"), self.stamp("second")]

    def stamp_if_needed(self, limit: int) -> str:
        if self.stamp("check") < limit:
            return "early"
        return "late"

    def stamp_loop(self, n: int) -> int:
        total = 0
        for i in range(n):
            total += self.stamp(f"loop{i}")
        return total

    def countdown(self, n: int) -> List[int]:
        if n == 0:
            self.stamp("liftoff")
            return [0]
        t = self.clock.tick(f"count{n}")
        self.depth = max(self.depth, n)
        return [t] + self.countdown(n - 1)

    def is_even(self, n: int) -> bool:
        self.clock.tick(f"even{n}")
        if n == 0:
            return True
        return self.is_odd(n - 1)

    def is_odd(self, n: int) -> bool:
        self.clock.tick(f"odd{n}")
        if n == 0:
            return False
        return self.is_even(n - 1)

    def fib(self, n: int) -> int:
        if n < 2:
            self.clock.tick(f"fib{n}")
            return n
        return self.fib(n - 1) + self.fib(n - 2)

    def guarded(self, n: int) -> int:
        if n < 0:
            raise ValueError("negative")
        if n == 0:
            return self.stamp("bottom") // n
        return self.guarded(n - 1) + 1
