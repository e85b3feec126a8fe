"""A thermostat: if/elif/else chains whose conditions and branches are remote calls, and a
raise that follows a remote call. Sensors count reads, so which conditions ran is visible."""
from typing import List, Optional

from stateflow import stateflow


class SensorFault(Exception):
    pass


@stateflow
class Sensor:
    def __init__(self, sensor_id: str, temp: int):
        self.sensor_id: str = sensor_id
        self.temp: int = temp
        self.reads: int = 0

    def __key__(self):
        return self.sensor_id

    def read(self) -> int:
        self.reads += 1
        return self.temp

    def set_temp(self, temp: int) -> int:
        self.temp = temp
        return self.temp

    def is_broken(self) -> bool:
        self.reads += 1
        return self.temp < -50 or self.temp > 150


@stateflow
class Heater:
    def __init__(self, heater_id: str):
        self.heater_id: str = heater_id
        self.power: int = 0
        self.switches: int = 0

    def __key__(self):
        return self.heater_id

    def set_power(self, power: int) -> int:
        if power != self.power:
            self.switches += 1
        self.power = power
        return self.power

    def get_power(self) -> int:
        return self.power


@stateflow
class Thermostat:
    def __init__(self, room: str, target: int):
        self.room: str = room
        self.target: int = target
        self.history: List[str] = []

    def __key__(self):
        return self.room

    def classify(self, s: Sensor) -> str:
        if s.read() > 30:
            label = "hot"
        elif s.read() > 20:
            label = "warm"
        elif s.read() > 10:
            label = "mild"
        else:
            label = "cold"
        self.history.append(label)
        return label

    def regulate(self, s: Sensor, h: Heater) -> int:
        t = s.read()
        if t < self.target - 5:
            power = h.set_power(3)
        elif t < self.target:
            power = h.set_power(1)
        else:
            h.set_power(0)
            power = 0
        self.history.append(f"power={power}")
        return power

    def checked_read(self, s: Sensor) -> int:
        if s.is_broken():
            self.history.append("fault")
            raise SensorFault(self.room)
        return s.read()

    def compare(self, a: Sensor, b: Sensor, h: Optional[Heater]) -> str:
        if a.read() > b.read():
            if h is not None:
                if h.get_power() > 0:
                    h.set_power(0)
                    return "a warmer, heater off"
                return "a warmer, heater was off"
            return "a warmer"
        elif a.read() == b.read():
            return "same"
        if h is None:
            return "b warmer"
        return f"b warmer, heater at {h.get_power()}"

    def average(self, sensors: List[Sensor]) -> int:
        if not sensors:
            raise ValueError("no sensors")
        total = 0
        for s in sensors:
            total += s.read()
        avg = total // len(sensors)
        if avg > 100:
            raise SensorFault("average too high")
        return avg
