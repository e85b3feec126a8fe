from stateflow import stateflow


@stateflow
class R:
    def __init__(self, name: str):
        self.name: str = name

    def __key__(self):
        return self.name

    def get(self) -> int:
        return 2


@stateflow
class User:
    def __init__(self, name: str):
        self.name: str = name

    def __key__(self):
        return self.name

    def describe(self, r: R, k: int) -> str:
        r.get()
        match k:
            case 1:
                return "one"
        return "no"

    def plain(self, k: int) -> str:
        match k:  # fine: this method makes no remote operation
            case 1:
                return "one"
        return "no"
