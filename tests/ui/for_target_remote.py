from typing import List

from stateflow import stateflow


@stateflow
class Stats:
    def __init__(self, name: str):
        self.name: str = name
        self.values: List[int] = []

    def __key__(self):
        return self.name

    def slot(self) -> int:
        return 0


@stateflow
class Recorder:
    def __init__(self, name: str):
        self.name: str = name
        self.buffer: List[int] = [0, 0]

    def __key__(self):
        return self.name

    def record(self, stats: Stats, values: List[int]) -> None:
        for self.buffer[stats.slot()] in values:
            pass
