from stateflow import stateflow


@stateflow
class Order:
    def __init__(self, order_id: str):
        self.order_id: str = order_id
        self.status: str = "new"

    def __key__(self):
        return self.order_id

    class Status:
        NEW = "new"
        PAID = "paid"

    def pay(self) -> None:
        self.status = "paid"
