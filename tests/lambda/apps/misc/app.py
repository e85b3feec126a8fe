"""Corners of the Lambda target's HTTP API: int and str keys, errors, state that cannot be
stored as JSON."""
from typing import List

from stateflow import stateflow


class Refused(Exception):
    pass


@stateflow
class Box:
    def __init__(self, number: int, label: str):
        self.number: int = number
        self.label: str = label
        self.items: List[str] = []
        self.extra: object = None

    def __key__(self):
        return self.number

    def add(self, item: str) -> int:
        self.items.append(item)
        return len(self.items)

    def refuse(self, item: str) -> int:
        self.items.append(item)
        raise Refused(f"refused after adding {item}")

    def hide_a_set(self) -> int:
        self.extra = {"not", "json"}
        return 1


@stateflow
class Tag:
    def __init__(self, name: str):
        self.name: str = name
        self.count: int = 0

    def __key__(self):
        return self.name

    def bump(self) -> int:
        self.count += 1
        return self.count

    def fill(self, box: Box, item: str) -> int:
        n = box.add(item)
        self.count += n
        return self.count
