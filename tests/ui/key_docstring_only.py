from stateflow import stateflow


@stateflow
class Session:
    def __init__(self, token: str):
        self.token: str = token
        self.active: bool = True

    def __key__(self):
        """Sessions are identified by their token."""

    def close(self) -> None:
        self.active = False
