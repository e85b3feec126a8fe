from typing import List

from stateflow import stateflow


@stateflow
class Inbox:
    def __init__(self, owner: str):
        self.owner: str = owner
        self.messages: List[str] = []

    def __key__(self):
        return self.owner

    def unread(self) -> List[str]:
        for m in self.messages:
            if not m.startswith("read:"):
                yield m
