from stateflow import stateflow

ENTITIES = ["Account"]


@stateflow
class Account:
    def __init__(self, iban: str):
        self.iban: str = iban
        self._sf_balance: int = 0

    def __key__(self):
        return self.iban

    def deposit(self, amount: int) -> int:
        _sf_tmp = amount
        self._sf_balance += _sf_tmp
        return self._sf_balance
