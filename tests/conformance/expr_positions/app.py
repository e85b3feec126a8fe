"""A shopping cart whose methods put remote calls in every expression position."""
from typing import Dict, List

from stateflow import stateflow


def describe(label: str, amount: int, currency: str = "EUR") -> str:
    return f"{label}={amount}{currency}"


@stateflow
class Item:
    def __init__(self, name: str, price: int, slot: int):
        self.name: str = name
        self.price: int = price
        self.slot: int = slot
        self.calls: int = 0

    def __key__(self):
        return self.name

    def price_of(self, qty: int) -> int:
        self.calls += 1
        return self.price * qty

    def get_name(self) -> str:
        self.calls += 1
        return self.name

    def idx(self) -> int:
        self.calls += 1
        return self.slot

    def is_cheap(self) -> bool:
        self.calls += 1
        return self.price < 10

    def discount(self) -> int:
        self.calls += 1
        return self.price // 10

    def touch(self) -> None:
        self.calls += 1


@stateflow
class Cart:
    def __init__(self, owner: str):
        self.owner: str = owner
        self.total: int = 0
        self.notes: List[str] = []
        self.table: List[str] = ["zero", "one", "two", "three"]
        self.last: Dict[str, int] = {}

    def __key__(self):
        return self.owner

    def touch_twice(self, item: Item) -> int:
        item.touch()
        item.touch()
        return self.total

    def add(self, item: Item, qty: int) -> int:
        self.total += item.price_of(qty)
        return self.total

    def local_aug(self, item: Item, other: Item) -> int:
        subtotal = 100
        subtotal -= item.discount()
        subtotal *= other.price_of(1)
        return subtotal

    def remember(self, item: Item) -> str:
        n = item.get_name()
        self.notes.append(n)
        return n

    def direct_return(self, item: Item) -> int:
        return item.price_of(3)

    def binop(self, a: Item, b: Item) -> int:
        return a.price_of(2) * 10 + b.price_of(1) - 1 + self.total

    def as_args(self, a: Item, b: Item) -> str:
        return describe(a.get_name(), amount=b.price_of(2))

    def as_builtin_args(self, a: Item, b: Item) -> int:
        return max(a.price_of(1), b.price_of(1)) + len(str(a.price_of(10)))

    def literals(self, a: Item, b: Item) -> dict:
        lst = [a.price_of(1), b.price_of(1), 7]
        tup = (a.get_name(), b.idx())
        dct = {"a": a.discount(), b.get_name(): 1}
        return {"list": lst, "tuple": tup, "dict": dct, "size": len(tup)}

    def lookup(self, a: Item) -> str:
        return self.table[a.idx()]

    def lookup_plus(self, a: Item, b: Item) -> str:
        return self.table[a.idx() + b.idx()].upper()

    def store(self, a: Item, b: Item) -> Dict[str, int]:
        self.last[a.get_name()] = b.price_of(1)
        return dict(self.last)

    def shout(self, a: Item) -> str:
        return f"{a.get_name()}!"

    def label(self, a: Item, qty: int) -> str:
        return f"{qty} x {a.get_name()} = {a.price_of(qty):05d} ({self.owner})"

    def compare(self, a: Item, b: Item) -> List[bool]:
        return [a.price_of(1) < b.price_of(1), a.get_name() == "pen", a.price_of(1) >= 5, a.get_name() in self.notes]

    def unary(self, a: Item) -> list:
        return [not a.is_cheap(), -a.price_of(1), -(a.price_of(2) - 100)]

    def nested(self, a: Item, b: Item) -> int:
        return a.price_of(b.idx())

    def condition(self, a: Item) -> str:
        if not a.is_cheap():
            self.notes.append("pricey")
            return "pricey"
        return "cheap"
