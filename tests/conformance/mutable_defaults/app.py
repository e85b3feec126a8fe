"""A mutable default value is one object for every call, as in plain Python, also in a
method that waits for another entity while it holds it."""
from typing import Dict, List

from stateflow import stateflow


@stateflow
class Num:
    def __init__(self, key: int, n: int):
        self.key: int = key
        self.n: int = n

    def __key__(self):
        return self.key

    def get(self) -> int:
        return self.n

    def acc(self, x: int, into: List[int] = []) -> List[int]:
        into.append(x)
        return into

    def acc_split(self, o: "Num", into: List[int] = []) -> List[int]:
        into.append(o.get())
        return into

    def count(self, o: "Num", *, seen: Dict[str, int] = {}) -> Dict[str, int]:
        k = str(o.get())
        seen[k] = seen.get(k, 0) + 1
        return seen
