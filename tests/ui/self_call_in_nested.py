from typing import List

from stateflow import stateflow


@stateflow
class Item:
    def __init__(self, name: str):
        self.name: str = name
        self.price: int = 0

    def __key__(self):
        return self.name

    def get_price(self) -> int:
        return self.price


@stateflow
class Basket:
    def __init__(self, basket_id: str):
        self.basket_id: str = basket_id
        self.items: List[Item] = []

    def __key__(self):
        return self.basket_id

    def price_of(self, item: Item) -> int:
        return item.get_price()

    def total(self) -> int:
        return sum([self.price_of(item) for item in self.items])

    def cheapest(self) -> Item:
        return min(self.items, key=lambda item: self.price_of(item))

    def total_with(self, extra: Item) -> int:
        def with_extra() -> int:
            return self.total() + extra.get_price()

        return with_extra()

    def most_expensive(self) -> Item:
        return max(self.items, key=self.price_of)
