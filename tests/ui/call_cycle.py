from stateflow import stateflow


@stateflow
class Warehouse:
    def __init__(self, name: str):
        self.name: str = name
        self.stock: int = 10

    def __key__(self):
        return self.name

    def restock(self, shop: "Shop", amount: int) -> int:
        self.stock -= amount
        return shop.receive(amount)

    def reserve(self, amount: int) -> bool:
        return self.stock >= amount


@stateflow
class Shop:
    def __init__(self, name: str):
        self.name: str = name
        self.shelf: int = 0

    def __key__(self):
        return self.name

    def receive(self, amount: int) -> int:
        self.shelf += amount
        return self.shelf

    def order(self, warehouse: Warehouse, amount: int) -> bool:
        return warehouse.reserve(amount)
