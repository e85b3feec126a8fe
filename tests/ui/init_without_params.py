from stateflow import stateflow


@stateflow
class Clock:
    def __init__():
        pass

    def __key__():
        return 0

    def tick() -> int:
        return 1
