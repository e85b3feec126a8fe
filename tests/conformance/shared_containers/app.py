"""Lists and dicts shared under several names, as plain Python shares them, kept across
suspensions; dicts with keys other than str; references compared with entities."""
from typing import Dict, List

from stateflow import stateflow


@stateflow
class Counter:
    def __init__(self, name: str):
        self.name: str = name
        self.n: int = 1

    def __key__(self):
        return self.name

    def get(self) -> int:
        self.n += 1
        return self.n

    def poke(self, h: "Holder") -> int:
        return h.replace(self.n)

    def me(self) -> "Counter":
        return self

    def same(self, other: "Counter") -> bool:
        return other == self and self == other


@stateflow
class Holder:
    def __init__(self, name: str):
        self.name: str = name
        self.d: Dict[str, int] = {}
        self.items: List[int] = []
        self.by_id: Dict[int, str] = {1: "one"}
        self.grid: List[List[int]] = [[0], [0]]

    def __key__(self):
        return self.name

    def replace(self, k: int) -> int:
        self.items = [k]
        return k * 10

    def dict_alias(self, c: Counter) -> Dict[str, int]:
        d = self.d
        d["k"] = c.get()
        d["again"] = c.get()
        return self.d

    def list_alias(self, c: Counter) -> List[int]:
        lst = self.items
        lst.append(1)
        v = c.get()
        lst.append(v)
        return self.items

    def two_locals(self, c: Counter) -> List[int]:
        a = []
        b = a
        v = c.get()
        a.append(v)
        return b

    def fill(self, xs: List[int], c: Counter) -> None:
        xs.append(c.get())

    def helper_fills(self, c: Counter) -> List[int]:
        xs = [0]
        self.fill(xs, c)
        self.fill(xs, c)
        return xs

    def nested_alias(self, c: Counter) -> List[List[int]]:
        row = self.grid[1]
        row.append(c.get())
        pair = [row, row]
        pair[0].append(c.get())
        return [self.grid[1], pair[1]]

    def replaced_meanwhile(self, c: Counter) -> List[int]:
        old = self.items
        old.append(5)
        r = c.poke(self)  # replace() swaps self.items for a new list meanwhile
        old.append(r)
        return old + [-1] + self.items

    def append_to_receiver(self, c: Counter) -> List[int]:
        self.items = [7]
        self.items.append(c.poke(self))  # appends to the list taken before the call
        return self.items

    def int_keys(self, c: Counter) -> Dict[int, str]:
        self.by_id[c.get()] = "got"
        return self.by_id

    def ref_keys(self, c: Counter, other: Counter) -> int:
        counts = {c: 1, other: 2}
        m = c.me()
        return counts[m] * 10 + counts[other.me()]

    def compare(self, c: Counter, other: Counter) -> List[bool]:
        m = c.me()
        return [m == c, m == other, c in [other, m], c.same(c), c.same(other)]
