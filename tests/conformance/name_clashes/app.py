from typing import List

from stateflow import stateflow


@stateflow
class P:
    def __init__(self, name: str, v: int):
        self.name: str = name
        self.v: int = v

    def __key__(self):
        return self.name

    def i(self) -> int:
        return 1

    def seq(self) -> List[int]:
        return [7]

    def t1(self) -> int:
        return 100

    def read_v(self, o: "P") -> int:
        return o.v + 1

    def read_v2(self, o: "P") -> List[int]:
        x = o.v
        return [x, self.v]

    def loop_i(self, o: "P", xs: List[int]) -> int:
        total = 0
        for x in xs:
            total += x * o.i()
        return total

    def loop_seq(self, o: "P", xs: List[int]) -> int:
        total = 0
        for x in xs:
            total += x + len(o.seq())
        return total

    def temp(self, o: "P") -> List[int]:
        return [self.v, o.t1(), o.i()]

    def get(self) -> int:
        return 10

    def v_then_call(self, o: "P") -> int:
        return o.v + o.get()

    def method_v(self, o: "Q") -> int:
        return o.v() * o.get()


@stateflow
class Q:
    def __init__(self, name: str):
        self.name: str = name

    def __key__(self):
        return self.name

    def v(self) -> int:
        return 3

    def get(self) -> int:
        return 4
