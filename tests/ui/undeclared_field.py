from stateflow import stateflow


@stateflow
class Counter:
    def __init__(self, name: str):
        self.name: str = name
        self.count: int = 0

    def __key__(self):
        return self.name

    def increment(self) -> int:
        self.count += 1
        self.last_change = "increment"
        return self.count
