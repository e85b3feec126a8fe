from stateflow import stateflow


@stateflow
class Temperature:
    def __init__(self, sensor: str):
        self.sensor: str = sensor
        self.celsius: float = 0.0

    def __key__(self):
        return self.sensor

    @staticmethod
    def to_fahrenheit(c):
        return c * 9 / 5 + 32

    @classmethod
    def unit(cls):
        return "C"

    @property
    def kelvin(self) -> float:
        return self.celsius + 273.15

    def record(self, celsius: float) -> float:
        self.celsius = celsius
        return Temperature.to_fahrenheit(celsius)

    def helper(value: int) -> int:
        return value + 1
