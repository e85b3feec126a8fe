import threading

from stateflow import stateflow

audit_lock = threading.Lock()


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
        self.spent: int = 0

    def __key__(self):
        return self.username

    def price_of(self, item: Item) -> int:
        return item.get_price()

    def buy(self, item: Item) -> bool:
        try:
            self.spent += self.price_of(item)
        except ValueError:
            return False
        return True

    def audit(self, item: Item) -> int:
        with audit_lock:
            return self.price_of(item)
