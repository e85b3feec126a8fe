from stateflow import stateflow


class Address:
    def __init__(self, street: str, city: str):
        self.street = street
        self.city = city


@stateflow
class Customer:
    def __init__(self, name: str):
        self.name: str = name
        self.city: str = ""
        self.billing: Address = Address("", "")

    def __key__(self):
        return self.name

    def move(self, address: Address) -> None:
        self.city = address.city
