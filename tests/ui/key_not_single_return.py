from stateflow import stateflow


@stateflow
class Account:
    def __init__(self, bank: str, number: str):
        self.bank: str = bank
        self.number: str = number

    def __key__(self):
        iban = self.bank + self.number
        return iban

    def owner_bank(self) -> str:
        return self.bank
