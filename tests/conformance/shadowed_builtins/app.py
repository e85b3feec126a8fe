from typing import List

from stateflow import stateflow


@stateflow
class R:
    def __init__(self, name: str):
        self.name: str = name

    def __key__(self):
        return self.name

    def get(self) -> int:
        return 1


@stateflow
class L:
    def __init__(self, name: str):
        self.name: str = name

    def __key__(self):
        return self.name

    def shadow_list(self, r: R, list: List[int]) -> int:
        t = 0
        for x in list:
            t += x * r.get()
        return t

    def shadow_len(self, r: R, xs: List[int]) -> int:
        len = 0
        for x in xs:
            len += r.get()
        return len

    def shadow_locals(self, r: R) -> int:
        locals = 3
        return locals + r.get()
