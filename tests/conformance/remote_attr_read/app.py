"""Price tracking: remote attribute reads (item.price) used in expressions, conditions,
f-strings and loops; a read, a change through a call, and a second read see the value at
each moment. Attribute chains follow entity references stored in fields."""
from typing import Dict, List, Optional

from stateflow import stateflow


@stateflow
class Supplier:
    def __init__(self, name: str, country: str):
        self.name: str = name
        self.country: str = country
        self.rating: float = 3.0

    def __key__(self):
        return self.name

    def rate(self, rating: float) -> float:
        self.rating = rating
        return self.rating


@stateflow
class Item:
    def __init__(self, name: str, price: int, supplier: Optional[Supplier]):
        self.name: str = name
        self.price: int = price
        self.supplier: Optional[Supplier] = supplier
        self.tags: List[str] = []
        self.meta: Dict[str, int] = {"weight": 1}

    def __key__(self):
        return self.name

    def set_price(self, price: int) -> int:
        old = self.price
        self.price = price
        return old

    def tag(self, t: str) -> int:
        self.tags.append(t)
        return len(self.tags)

    def set_meta(self, k: str, v: int) -> int:
        self.meta[k] = v
        return len(self.meta)


@stateflow
class Tracker:
    def __init__(self, name: str):
        self.name: str = name
        self.seen: List[int] = []

    def __key__(self):
        return self.name

    def snapshot(self, item: Item) -> int:
        p = item.price
        self.seen.append(p)
        return p

    def before_after(self, item: Item, new_price: int) -> List[int]:
        before = item.price
        item.set_price(new_price)
        after = item.price
        return [before, after, after - before]

    def in_expression(self, a: Item, b: Item) -> int:
        return a.price * 2 + b.price

    def cheaper(self, a: Item, b: Item) -> str:
        if a.price < b.price:
            return a.name
        elif a.price == b.price:
            return "tie"
        return b.name

    def describe(self, item: Item) -> str:
        return f"{item.name} costs {item.price} and has {len(item.tags)} tags"

    def total(self, items: List[Item]) -> int:
        s = 0
        for it in items:
            s += it.price * it.meta["weight"]
        return s

    def supplier_country(self, item: Item) -> str:
        sup = item.supplier
        if sup is None:
            return "unknown"
        return sup.country

    def supplier_chain(self, item: Item) -> float:
        return item.supplier.rating

    def tags_then_more(self, item: Item) -> List[int]:
        n1 = len(item.tags)
        item.tag("x")
        item.tag("y")
        n2 = len(item.tags)
        return [n1, n2]

    def weight_of(self, item: Item, key: str) -> int:
        return item.meta[key]
