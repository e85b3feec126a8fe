from stateflow import stateflow


@stateflow
class Item:
    def __init__(self, name: str, price: int):
        self.name: str = name
        self.price: int = price

    def __key__(self):
        return self.name

    def discount(self, percent: int) -> int:
        return self.price * (100 - percent) // 100


@stateflow
class User:
    def __init__(self, username: str):
        self.username: str = username

    def __key__(self):
        return self.username

    def quote(self, item: Item) -> int:
        return item.get_price()

    def quote_price(self, item: Item) -> int:
        return item.price()

    def quote_discount(self, item: Item) -> int:
        return item.discount

    def stock(self, item: Item) -> int:
        return item.stock
