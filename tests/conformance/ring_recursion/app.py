"""A token ring of Node entities, each holding `next: Optional["Node"]`. Calls travel
around the ring and re-enter a node whose own call is still suspended (x.depth(3) ->
y.depth(2) -> w.depth(1) -> x.depth(0)); the re-entered node's writes must be visible
to the suspended call when it resumes. Exceptions unwind through every level."""
from typing import List, Optional

from stateflow import stateflow


class RingBroken(Exception):
    pass


@stateflow
class Node:
    def __init__(self, name: str, value: int):
        self.name: str = name
        self.value: int = value
        self.next: Optional["Node"] = None
        self.visits: List[int] = []
        self.tokens: int = 0

    def __key__(self):
        return self.name

    def link(self, nxt: Optional["Node"]) -> str:
        self.next = nxt
        if nxt is None:
            return self.name + "->None"
        return self.name + "->" + nxt.name

    def depth(self, n: int) -> List[str]:
        self.visits.append(n)
        if n == 0:
            return [f"{self.name}:{len(self.visits)}"]
        if self.next is None:
            raise RingBroken(self.name)
        rest = self.next.depth(n - 1)
        return [f"{self.name}:{len(self.visits)}"] + rest

    def sum_ring(self, n: int) -> int:
        if n == 0:
            return 0
        return self.value + self.next.sum_ring(n - 1)

    def receive(self, amount: int) -> int:
        self.tokens += amount
        self.value += 1
        return self.tokens

    def pass_token(self, hops: int, origin: "Node") -> List[int]:
        if hops == 0:
            return [origin.receive(10)]
        before = self.value
        got = self.next.pass_token(hops - 1, origin)
        return [before, self.value, self.tokens] + got

    def count_until(self, target: str, steps: int) -> int:
        if steps > 0 and self.name == target:
            return steps
        if steps > 20:
            raise RingBroken("no way back")
        return self.next.count_until(target, steps + 1)

    def fail_at(self, n: int) -> int:
        self.visits.append(-n)
        if n == 0:
            raise RingBroken(self.name)
        return self.next.fail_at(n - 1) + 1
