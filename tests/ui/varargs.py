from typing import List

from stateflow import stateflow


@stateflow
class Cart:
    def __init__(self, cart_id: str):
        self.cart_id: str = cart_id
        self.items: List[str] = []

    def __key__(self):
        return self.cart_id

    def add(self, *items: str) -> int:
        self.items.extend(items)
        return len(self.items)

    def configure(self, **options: str) -> None:
        pass
