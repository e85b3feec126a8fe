"""A team of counters: remote calls on entity references obtained from remote results,
self fields (list and dict), local lists and dicts, annotated locals taken out of untyped
containers, Optional parameters that may be None, and references nested in arguments."""
from typing import Dict, List, Optional, Tuple

from stateflow import stateflow


@stateflow
class Counter:
    def __init__(self, name: str):
        self.name: str = name
        self.value: int = 0
        self.buddy: Optional["Counter"] = None

    def __key__(self):
        return self.name

    def incr(self, by: int) -> int:
        self.value += by
        return self.value

    def get(self) -> int:
        return self.value

    def set_buddy(self, other: Optional["Counter"]) -> bool:
        self.buddy = other
        return other is not None

    def get_buddy(self) -> Optional["Counter"]:
        return self.buddy

    def me(self) -> "Counter":
        return self

    def pair_with(self, other: "Counter") -> Tuple[str, "Counter"]:
        return (self.name, other)


@stateflow
class Team:
    def __init__(self, name: str):
        self.name: str = name
        self.members: List[Counter] = []
        self.roles: Dict[str, Counter] = {}
        self.captain: Optional[Counter] = None

    def __key__(self):
        return self.name

    def join(self, c: Counter, role: str) -> int:
        self.members.append(c)
        self.roles[role] = c
        if self.captain is None:
            self.captain = c
        return len(self.members)

    def bump_all(self, by: int) -> List[int]:
        out: List[int] = []
        for c in self.members:
            out.append(c.incr(by))
        return out

    def bump_role(self, role: str, by: int) -> int:
        return self.roles[role].incr(by)

    def bump_captain(self) -> int:
        if self.captain is not None:
            return self.captain.incr(100)
        return -1

    def via_buddy(self, c: Counter) -> int:
        b = c.get_buddy()
        if b is None:
            return -1
        return b.incr(1)

    def via_buddy_chain(self, c: Counter) -> int:
        return c.get_buddy().get_buddy().incr(1000)

    def via_me(self, c: Counter) -> int:
        return c.me().incr(2)

    def local_list(self, a: Counter, b: Counter) -> List[int]:
        both: List[Counter] = [a, b]
        results: List[int] = []
        for c in both:
            results.append(c.incr(3))
        results.append(both[1].get())
        return results

    def local_dict(self, a: Counter, b: Counter) -> Dict[str, int]:
        by_name: Dict[str, Counter] = {"first": a, "second": b}
        out: Dict[str, int] = {}
        for k in by_name:
            out[k] = by_name[k].incr(len(k))
        return out

    def annotated_local(self, a: Counter, b: Counter) -> int:
        pair = [7, b, "x"]
        c: Counter = pair[1]
        return c.incr(pair[0])

    def from_tuple(self, a: Counter, b: Counter) -> List:
        name, other = a.pair_with(b)
        r: Counter = other
        return [name, r.incr(5)]

    def optional_param(self, a: Counter, other: Optional[Counter] = None) -> int:
        total = a.incr(1)
        if other is not None:
            total += other.incr(1)
        return total

    def nested_args(self, groups: Dict[str, List[Counter]]) -> Dict[str, int]:
        out: Dict[str, int] = {}
        for g, cs in groups.items():
            s = 0
            for c in cs:
                s += c.get()
            out[g] = s
        return out

    def roster(self) -> Dict[str, Counter]:
        return dict(self.roles)

    def relay(self, other: "Team", role: str) -> int:
        r = other.roster()
        return r[role].incr(10)
