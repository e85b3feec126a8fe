from typing import List, Optional

from stateflow import stateflow


@stateflow
class N:
    def __init__(self, name: str):
        self.name: str = name
        self.v: int = 0
        self.best: Optional["N"] = None

    def __key__(self):
        return self.name

    def get(self) -> int:
        return self.v

    def remember(self) -> None:
        self.best = self

    def bump(self) -> int:
        self.v += 1
        return self.v

    def same(self) -> bool:
        return self.best == self

    def via_best(self) -> List[int]:
        return [self.best.get(), self.v]
