"""Statistics over ranges: tuples returned by remote calls are used as tuples by the caller
(unpacking, concatenation, indexing, slicing, nesting, iteration over a list of tuples,
tuples as arguments), and tuple-valued state."""
from typing import Dict, List, Tuple

from stateflow import stateflow


@stateflow
class Range:
    def __init__(self, name: str, lo: int, hi: int):
        self.name: str = name
        self.lo: int = lo
        self.hi: int = hi
        self.last: Tuple[int, int] = (lo, hi)

    def __key__(self):
        return self.name

    def bounds(self) -> Tuple[int, int]:
        return (self.lo, self.hi)

    def split(self) -> Tuple[Tuple[int, int], Tuple[int, int]]:
        mid = (self.lo + self.hi) // 2
        return (self.lo, mid), (mid, self.hi)

    def pairs(self) -> List[Tuple[int, str]]:
        return [(i, str(i)) for i in range(self.lo, self.hi)]

    def named(self) -> Dict[str, Tuple[int, int]]:
        return {self.name: (self.lo, self.hi)}

    def stretch(self, by: Tuple[int, int]) -> Tuple[int, int]:
        self.lo -= by[0]
        self.hi += by[1]
        self.last = (self.lo, self.hi)
        return self.last

    def kind(self, value: Tuple[int, int]) -> str:
        return type(value).__name__


@stateflow
class Stats:
    def __init__(self, name: str):
        self.name: str = name
        self.seen: List[Tuple[int, int]] = []
        self.best: Tuple[int, int] = (0, 0)

    def __key__(self):
        return self.name

    def width(self, r: Range) -> int:
        lo, hi = r.bounds()
        return hi - lo

    def extended(self, r: Range) -> Tuple[int, ...]:
        t = r.bounds()
        return t + (1,)

    def first_and_type(self, r: Range) -> List:
        t = r.bounds()
        return [t[0], t[-1], t[:1], type(t).__name__, isinstance(t, tuple), len(t)]

    def halves(self, r: Range) -> List[int]:
        (a, b), (c, d) = r.split()
        left, right = r.split()
        return [a, b, c, d, right[1] - left[0]]

    def labels(self, r: Range) -> str:
        out = ""
        for n, s in r.pairs():
            out += s * n
        return out

    def record(self, r: Range) -> int:
        t = r.bounds()
        self.seen.append(t)
        if t[1] - t[0] > self.best[1] - self.best[0]:
            self.best = t
        return len(self.seen)

    def nested_kinds(self, r: Range) -> List[str]:
        d = r.named()
        inner = d[r.name]
        return [type(d).__name__, type(inner).__name__]

    def pass_tuple(self, r: Range, a: int, b: int) -> List:
        got = r.stretch((a, b))
        return [got, got == r.bounds(), r.kind((a, b))]

    def compare(self, r: Range, s: Range) -> List[bool]:
        return [r.bounds() < s.bounds(), r.bounds() == s.bounds(), r.bounds() in self.seen]

    def swap(self, r: Range) -> Tuple[int, int]:
        lo, hi = r.bounds()
        lo, hi = hi, lo
        return lo, hi
