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


@stateflow
class User:
    def __init__(self, username: str):
        self.username: str = username
        self.tier: str = "basic"

    def __key__(self):
        return self.username

    def price_for(self, item: Item) -> int:
        match self.tier:
            case "gold":
                return item.get_price() // 2
            case "silver":
                return self.discounted(item)
            case _:
                return 0  # item.get_price() in a comment is fine

    def discounted(self, item: Item) -> int:
        return item.get_price() * 9 // 10
