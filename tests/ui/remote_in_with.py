import threading

from stateflow import stateflow

lock = threading.Lock()


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
class User:
    def __init__(self, username: str):
        self.username: str = username
        self.log: str = ""

    def __key__(self):
        return self.username

    def quote(self, item: Item) -> int:
        with lock:
            price = item.get_price()
        return price
