"""A job queue drained by workers: while loops with remote calls in the condition
(re-evaluated every iteration) and in the body, with break / continue / else / return."""
from typing import List

from stateflow import stateflow


@stateflow
class JobQueue:
    def __init__(self, name: str):
        self.name: str = name
        self.jobs: List[int] = []
        self.polls: int = 0

    def __key__(self):
        return self.name

    def push(self, job: int) -> int:
        self.jobs.append(job)
        return len(self.jobs)

    def push_many(self, jobs: List[int]) -> int:
        for j in jobs:
            self.jobs.append(j)
        return len(self.jobs)

    def size(self) -> int:
        self.polls += 1
        return len(self.jobs)

    def is_empty(self) -> bool:
        self.polls += 1
        return len(self.jobs) == 0

    def pop(self) -> int:
        return self.jobs.pop(0)

    def peek(self) -> int:
        self.polls += 1
        return self.jobs[0]


@stateflow
class Worker:
    def __init__(self, name: str):
        self.name: str = name
        self.done: List[int] = []
        self.rounds: int = 0

    def __key__(self):
        return self.name

    def drain(self, q: JobQueue) -> List[int]:
        out: List[int] = []
        while not q.is_empty():
            out.append(q.pop())
        self.done += out
        return out

    def drain_to(self, q: JobQueue, keep: int) -> int:
        n = 0
        while q.size() > keep:
            self.done.append(q.pop())
            n += 1
        return n

    def take_until_negative(self, q: JobQueue) -> int:
        total = 0
        while True:
            if q.is_empty():
                total = -1
                break
            job = q.pop()
            if job < 0:
                break
            if job % 2 == 1:
                continue
            total += job
        self.rounds += 1
        return total

    def find_big(self, q: JobQueue, threshold: int) -> str:
        while q.size() > 0:
            job = q.pop()
            self.done.append(job)
            if job > threshold:
                return f"found {job}"
        else:
            self.rounds += 1
            return "queue empty"

    def sum_while_small(self, q: JobQueue, limit: int) -> List[int]:
        acc = 0
        count = 0
        while acc < limit and not q.is_empty():
            acc += q.pop()
            count += 1
        else:
            self.rounds += 1
        return [acc, count]

    def countdown_push(self, q: JobQueue, n: int) -> int:
        while n > 0:
            q.push(n * 10)
            n -= 1
        return q.size()
