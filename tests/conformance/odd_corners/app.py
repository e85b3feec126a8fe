from typing import Dict, List, Optional

from stateflow import stateflow


class Oops(Exception):
    pass


@stateflow
class Box:
    def __init__(self, name: str, n: int):
        self.name: str = name
        self.n: int = n
        self.items: List[int] = [1, 2, 3]

    def __key__(self):
        return self.name

    def get(self) -> int:
        return self.n

    def add(self, k: int = 1, *, times: int = 1) -> int:
        self.n += k * times
        return self.n

    def pair(self) -> List[int]:
        return [self.n, self.n * 2]

    def boom(self) -> int:
        raise Oops("no")


@stateflow
class Driver:
    def __init__(self, name: str):
        self.name: str = name
        self.log: List[str] = []
        self.d: Dict[str, int] = {"a": 1}

    def __key__(self):
        return self.name

    def walrus(self, b: Box) -> int:
        if (v := b.get()) > 3:
            return v * 10
        return v

    def starred(self, b: Box) -> List[int]:
        return [*b.pair(), b.get()]

    def dict_splat(self, b: Box) -> Dict[str, int]:
        return {**self.d, "x": b.get(), **{"y": b.add(times=2)}}

    def chained(self, b: Box, lo: int, hi: int) -> bool:
        return lo < b.get() <= hi

    def asserting(self, b: Box) -> int:
        assert b.get() > 0, f"bad {b.get()}"
        return 1

    def deleting(self, b: Box) -> Dict[str, int]:
        self.d["k"] = 5
        self.d[str(b.get())] = 7
        del self.d[str(b.get())]
        return self.d

    def aug_sub(self, b: Box) -> Dict[str, int]:
        self.d["a"] += b.get()
        return self.d

    def spec(self, b: Box) -> str:
        return f"{b.get():>{b.get()}}|"

    def while_else(self, b: Box) -> int:
        n = 0
        while b.get() < 10:
            b.add(3)
            n += 1
            if n > 100:
                break
        else:
            n += 1000
        return n

    def nested_loops(self, boxes: List[Box]) -> int:
        total = 0
        for x in boxes:
            for y in boxes:
                if x.get() == y.get():
                    continue
                total += x.get() - y.get()
        return total

    def catch_local(self, b: Box) -> str:
        v = b.get()
        try:
            r = 10 // (v - v)
        except ZeroDivisionError:
            r = -1
        finally:
            self.log.append("f")
        return str(r)

    def maybe(self, b: Optional[Box]) -> int:
        return b.get() if b is not None else -1

    def propagate(self, b: Box) -> int:
        self.log.append("before")
        x = b.boom()
        self.log.append("after")
        return x

    def ternary_chain(self, b: Box, c: Box) -> int:
        return b.get() or c.get() and b.add(100)

    def not_neg(self, b: Box) -> List[bool]:
        return [not b.get(), -b.get() < 0]

    def method_on_result(self, b: Box) -> int:
        return b.pair().index(b.get() * 2)
