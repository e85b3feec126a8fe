from stateflow import stateflow


@stateflow
class Bank:
    def __init__(self, name: str):
        self.name: str = name
        self.rate: int = 3

    def __key__(self):
        return self.name

    def interest_rate(self) -> int:
        return self.rate


@stateflow
class Account:
    def __init__(self, iban: str, bank: Bank):
        self.iban: str = iban
        self.bank: Bank = bank
        self.rate: int = 0
        self.refresh_rate()

    def __key__(self):
        return self.iban

    def refresh_rate(self) -> None:
        self.rate = self.bank.interest_rate()
