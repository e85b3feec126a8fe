from stateflow import stateflow


@stateflow
class User:
    def __init__(self, username: str):
        self.username: str = username
        self.email: str = ""

    def __key__(self):
        return self.username

    def rename(self, new_name: str) -> None:
        self.username = new_name
