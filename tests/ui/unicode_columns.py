from stateflow import stateflow


@stateflow
class Café:
    def __init__(self, name: str):
        self.name: str = name
        self.menu: str = "crème brûlée"

    def __key__(self):
        return self.name


@stateflow
class Guest:
    def __init__(self, name: str):
        self.name: str = name

    def __key__(self):
        return self.name

    def greet(self, café: Café) -> str:
        return "¡Hola! «" + café.menú + "»"
