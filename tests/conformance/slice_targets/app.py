from typing import List

from stateflow import stateflow


@stateflow
class R:
    def __init__(self, name: str):
        self.name: str = name

    def __key__(self):
        return self.name

    def get(self) -> int:
        return 2


@stateflow
class L:
    def __init__(self, name: str):
        self.name: str = name
        self.lst: List[int] = [0, 1, 2, 3]

    def __key__(self):
        return self.name

    def cut(self, r: R) -> List[int]:
        self.lst[:r.get()] = [9]
        return self.lst
