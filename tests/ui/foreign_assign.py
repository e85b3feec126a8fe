from stateflow import stateflow


@stateflow
class Item:
    def __init__(self, name: str):
        self.name: str = name
        self.stock: int = 0

    def __key__(self):
        return self.name


@stateflow
class Warehouse:
    def __init__(self, city: str):
        self.city: str = city

    def __key__(self):
        return self.city

    def restock(self, item: Item, amount: int) -> None:
        item.stock = item.stock + amount
