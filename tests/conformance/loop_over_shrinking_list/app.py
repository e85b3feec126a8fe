from typing import Dict, List

from stateflow import stateflow


@stateflow
class R:
    def __init__(self, name: str, v: int):
        self.name: str = name
        self.v: int = v

    def __key__(self):
        return self.name

    def get(self) -> int:
        return self.v

    def inc(self) -> int:
        self.v += 1
        return self.v


@stateflow
class L:
    def __init__(self, name: str):
        self.name: str = name
        self.lst: List[int] = [1, 2]
        self.d: Dict[str, int] = {"a": 1, "b": 2}

    def __key__(self):
        return self.name

    def grow_while_iter(self, r: R) -> List[int]:
        self.lst = [1, 2]
        for x in self.lst:
            if x < 4:
                self.lst.append(x + r.get())
        return self.lst

    def local_grow(self, r: R) -> List[int]:
        xs = [1, 2]
        out: List[int] = []
        for x in xs:
            out.append(x)
            if len(xs) < 5:
                xs.append(r.inc())
        return out

    def shrink_iter(self, r: R) -> List[int]:
        xs = [1, 2, 3, 4, 5]
        seen: List[int] = []
        for x in xs:
            seen.append(x)
            r.get()
            if x == 2:
                xs.remove(1)
        return seen

    def enum_zip(self, r: R) -> List[int]:
        out: List[int] = []
        for i, (a, b) in enumerate(zip([1, 2, 3], "abc"), start=10):
            out.append(i * r.get() + a)
        return out

    def items_iter(self, r: R) -> List[str]:
        out: List[str] = []
        for k, v in self.d.items():
            out.append(f"{k}{v + r.get()}")
        for k in reversed(sorted(self.d)):
            out.append(k * r.get())
        for c in "hé":
            out.append(c + str(r.get()))
        return out

    def range_step(self, r: R) -> List[int]:
        out: List[int] = []
        for i in range(10, 0, -3):
            out.append(i + r.get())
        return out

    def loop_var_after(self, r: R) -> int:
        for i in range(3):
            r.get()
        return i

    def unbound(self, r: R, flag: bool) -> int:
        if flag:
            x = 1
        r.get()
        return x

    def unbound_loop(self, r: R) -> int:
        for i in []:
            pass
        r.get()
        return i

    def deleted(self, r: R) -> int:
        x = 5
        del x
        r.get()
        return x

    def dict_iter_mut(self, r: R) -> List[str]:
        d = {"a": 1}
        out: List[str] = []
        for k in d:
            out.append(k)
            r.get()
            d["z" + k] = 1
        return out

    def nested_brk(self, r: R) -> List[int]:
        out: List[int] = []
        for i in range(4):
            for j in range(4):
                if j > i:
                    break
                if (i + j) % 2:
                    continue
                out.append(i * 10 + j + r.get() * 0)
            else:
                out.append(-i)
        else:
            out.append(999)
        return out

    def ret_nested(self, r: R) -> int:
        for i in range(5):
            j = 0
            while True:
                j += 1
                if j * i > r.get():
                    return i * 100 + j
                if j > 10:
                    break
        return -1
