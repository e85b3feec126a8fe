from typing import List

from stateflow import stateflow


@stateflow
class Item:
    def __init__(self, name: str):
        self.name: str = name
        self.stock: int = 0
        self.tags: List[str] = []

    def __key__(self):
        return self.name


@stateflow
class Warehouse:
    def __init__(self, city: str):
        self.city: str = city
        self.items: List[Item] = []

    def __key__(self):
        return self.city

    def restock(self, item: Item, amount: int) -> None:
        item.stock = item.stock + amount

    def clear_stock(self) -> None:
        for i in range(len(self.items)):
            self.items[i].stock = 0

    def tag(self, item: Item, tag: str) -> None:
        item.tags[0] = tag
