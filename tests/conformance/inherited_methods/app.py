"""Methods an entity inherits from a plain base class of the module, called from another
entity and by the client like its own."""
from typing import List

from stateflow import stateflow


class Named:
    greeting: str = "hello"

    def hello(self) -> str:
        return f"{self.greeting} {self.name}"

    def rename(self, new: str) -> str:
        old = self.name
        self.label = new
        return old


@stateflow
class Person(Named):
    def __init__(self, name: str):
        self.name: str = name
        self.label: str = ""

    def __key__(self):
        return self.name

    def own(self) -> int:
        return 1


@stateflow
class Greeter:
    def __init__(self, name: str):
        self.name: str = name
        self.log: List[str] = []

    def __key__(self):
        return self.name

    def greet(self, p: Person) -> str:
        s = p.hello()
        self.log.append(s)
        return s + "!" + p.rename("x")
