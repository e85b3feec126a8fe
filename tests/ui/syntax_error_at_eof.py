from stateflow import stateflow


@stateflow
class Account:
    def __init__(self, iban: str):
        self.iban: str = (iban

