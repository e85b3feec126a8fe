"""Two entity classes that call each other: concurrent requests can deadlock (SW0003).

`Left.ping` holds its Left while it calls `Right.touch`, and `Right.ping` holds its Right
while it calls `Left.touch`: when one request of each starts before either calls, each
waits for the other. The runtime fails the younger one with `Deadlock`.
"""
from stateflow import stateflow


@stateflow
class Left:
    def __init__(self, name: str):
        self.name: str = name
        self.pings: int = 0
        self.touches: int = 0

    def __key__(self):
        return self.name

    def touch(self) -> int:
        self.touches += 1
        return self.touches

    def ping(self, other: "Right") -> int:
        self.pings += 1
        return other.touch() + self.touches


@stateflow
class Right:
    def __init__(self, name: str):
        self.name: str = name
        self.pings: int = 0
        self.touches: int = 0

    def __key__(self):
        return self.name

    def touch(self) -> int:
        self.touches += 1
        return self.touches

    def ping(self, other: Left) -> int:
        self.pings += 1
        return other.touch() + self.touches
