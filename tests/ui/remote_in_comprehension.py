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

    def total(self) -> int:
        return sum([item.get_price() for item in self.items])

    def names(self) -> List[str]:
        return [item.name for item in self.items]
