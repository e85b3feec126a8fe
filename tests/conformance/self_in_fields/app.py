from typing import Dict, List

from stateflow import stateflow


@stateflow
class N:
    def __init__(self, name: str):
        self.name: str = name
        self.peers: List["N"] = []
        self.scores: Dict["N", int] = {}

    def __key__(self):
        return self.name

    def get(self) -> int:
        return 1

    def dict_self(self, o: "N") -> int:
        self.scores[self] = 1
        o.get()
        return self.scores[self]

    def list_self(self, o: "N") -> bool:
        self.peers.append(self)
        o.get()
        return self in self.peers

    def stored_self(self) -> bool:
        return self in self.peers

    def stored_self_dict(self) -> int:
        return self.scores.get(self, -1)
