from stateflow import stateflow


@stateflow
class Item:
    def __init__(self, name: str):
        self.name: str = name
        self.stock: int = 0

    def __key__(self):
        return self.name

    def take(self, amount: int) -> bool:
        if self.stock < amount:
            raise ValueError("not enough stock")
        self.stock -= amount
        return True


@stateflow
class User:
    def __init__(self, username: str):
        self.username: str = username

    def __key__(self):
        return self.username

    def buy(self, item: Item, amount: int) -> bool:
        try:
            return item.take(amount)
        except ValueError:
            return False
