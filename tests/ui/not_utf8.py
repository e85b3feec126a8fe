from stateflow import stateflow


@stateflow
class Item:
    def __init__(self, name: str):
        self.name: str = name
        self.price: int = 0  # prix en éuros

    def __key__(self):
        return self.name
