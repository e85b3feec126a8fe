"""A `@property` of an entity read from another entity (`o.total`): the owner computes it
when the read arrives, with its state at that moment."""
from typing import List

from stateflow import stateflow


@stateflow
class Cart:
    def __init__(self, name: str):
        self.name: str = name
        self.prices: List[int] = []

    def __key__(self):
        return self.name

    @property
    def total(self) -> int:
        return sum(self.prices)

    @property
    def first(self) -> int:
        return self.prices[0]

    def add(self, p: int) -> int:
        self.prices.append(p)
        return self.total


@stateflow
class Shopper:
    def __init__(self, name: str):
        self.name: str = name

    def __key__(self):
        return self.name

    def budget_left(self, cart: Cart, budget: int) -> int:
        return budget - cart.total

    def add_and_read(self, cart: Cart) -> List[int]:
        before = cart.total
        cart.add(7)
        return [before, cart.total, cart.first]
