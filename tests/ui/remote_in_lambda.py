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

    def discount_for(self, username: str) -> int:
        return 0


@stateflow
class Shop:
    def __init__(self, shop_id: str):
        self.shop_id: str = shop_id

    def __key__(self):
        return self.shop_id

    def cheapest(self, items: List[Item]) -> Item:
        return min(items, key=lambda i: i.get_price())

    def best_customer(self, item: Item, users: List[str]) -> str:
        return max(users, key=lambda u: item.discount_for(u))
