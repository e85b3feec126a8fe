from stateflow import stateflow


@stateflow
class Config:
    def __key__(self):
        return self.name

    def get(self, key: str) -> str:
        return key
