from typing import List

from stateflow import stateflow


@stateflow
class Item:
    def __init__(self, name: str, price):
        self.name: str = name
        self.price = price

    def get_price(self) -> int:
        return self.price


@stateflow
class User:
    def __init__(self, username: str):
        self.username: str = username
        self.basket: List[Item] = []

    def __key__(self):
        return self.username

    def total(self):
        return sum(item.get_price() for item in self.basket)

    def rename(self, name: str) -> None:
        self.username = name

    def checkout(self, item: Item) -> bool:
        try:
            item.reserve()
        finally:
            self.paid = True
        return True
