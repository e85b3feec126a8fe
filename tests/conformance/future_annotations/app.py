"""Postponed annotations: `from __future__ import annotations` makes every annotation a
string at run time, and must stay the first statement of the generated module."""
from __future__ import annotations

from typing import List, Optional

from stateflow import stateflow


@stateflow
class Node:
    def __init__(self, name: str):
        self.name: str = name
        self.value: int = 0
        self.children: List[Node] = []
        self.parent: Optional[Node] = None

    def __key__(self):
        return self.name

    def adopt(self, child: Node) -> int:
        child.set_parent(self)
        self.children.append(child)
        return len(self.children)

    def set_parent(self, parent: Node) -> None:
        self.parent = parent

    def set_value(self, v: int) -> int:
        self.value = v
        return v

    def total(self) -> int:
        t = self.value
        for c in self.children:
            t += c.total()
        return t

    def root_name(self) -> str:
        if self.parent is None:
            return self.name
        return self.parent.root_name()
