from stateflow import stateflow

created = 0


@stateflow
class Ticket:
    def __init__(self, number: str):
        self.number: str = number
        self.used: bool = False

    def __key__(self):
        return self.number

    def use(self) -> int:
        global created
        created += 1
        self.used = True
        return created

    def count_words(self, text: str) -> int:
        words = 0

        def add(n: int) -> None:
            nonlocal words
            words += n

        for line in text.splitlines():
            add(len(line.split()))
        return words
