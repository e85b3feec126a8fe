from stateflow import stateflow

tickets_used = 0


@stateflow
class Ticket:
    def __init__(self, number: str):
        self.number: str = number
        self.used: bool = False

    def __key__(self):
        return self.number

    def use(self) -> int:
        global tickets_used
        tickets_used += 1
        self.used = True
        return tickets_used

    def cancel(self) -> None:
        def forget() -> None:
            global tickets_used
            tickets_used -= 1

        if self.used:
            forget()
        self.used = False

    def count_words(self, text: str) -> int:
        words = 0

        def add(n: int) -> None:
            nonlocal words
            words += n

        for line in text.splitlines():
            add(len(line.split()))
        return words
