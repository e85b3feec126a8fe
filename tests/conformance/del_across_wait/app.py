"""`del` of a local before a remote call: reading it afterwards is an UnboundLocalError,
binding it again makes it usable, as in plain Python."""
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
        self.log: List[int] = []

    def __key__(self):
        return self.name

    def deleted(self, r: R) -> int:
        x = 5
        del x
        r.get()
        return x

    def rebound(self, r: R) -> int:
        x = 5
        del x
        x = r.get()
        return x * 10

    def deleted_in_branch(self, r: R, drop: bool) -> int:
        x = 7
        if drop:
            del x
        self.log.append(r.get())
        return x
