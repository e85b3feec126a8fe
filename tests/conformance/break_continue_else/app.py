"""Seat booking: searching rows of seats with break, continue and else clauses on for and
while loops, where the loop bodies, conditions and else clauses make remote calls."""
from typing import List, Optional

from stateflow import stateflow


class SoldOut(Exception):
    pass


@stateflow
class Row:
    def __init__(self, row_id: str, seats: int):
        self.row_id: str = row_id
        self.free: List[bool] = [True] * seats
        self.inspections: int = 0

    def __key__(self):
        return self.row_id

    def is_free(self, seat: int) -> bool:
        self.inspections += 1
        return self.free[seat]

    def take(self, seat: int) -> str:
        self.free[seat] = False
        return f"{self.row_id}{seat}"

    def free_count(self) -> int:
        self.inspections += 1
        return self.free.count(True)

    def width(self) -> int:
        return len(self.free)


@stateflow
class Venue:
    def __init__(self, name: str):
        self.name: str = name
        self.rows: List[Row] = []
        self.sold: List[str] = []
        self.misses: int = 0

    def __key__(self):
        return self.name

    def add_row(self, row: Row) -> int:
        self.rows.append(row)
        return len(self.rows)

    def first_free(self, front: int) -> str:
        for row in self.rows:
            if row.free_count() == 0:
                continue
            for seat in range(min(row.width(), front)):
                if row.is_free(seat):
                    ticket = row.take(seat)
                    break
            else:
                self.misses += 1
                continue
            self.sold.append(ticket)
            break
        else:
            raise SoldOut(self.name)
        return ticket

    def book_pair(self, row: Row) -> List[str]:
        seat = 0
        got: List[str] = []
        width = row.width()
        while seat + 1 < width:
            if not row.is_free(seat):
                seat += 1
                continue
            if not row.is_free(seat + 1):
                seat += 2
                continue
            got.append(row.take(seat))
            got.append(row.take(seat + 1))
            break
        else:
            self.misses += 1
            return []
        self.sold += got
        return got

    def count_free_until(self, limit: int) -> int:
        total = 0
        for row in self.rows:
            total += row.free_count()
            if total >= limit:
                break
        else:
            total = -total
        return total

    def skip_full(self, candidates: List[Row], fallback: Optional[Row]) -> List[str]:
        names: List[str] = []
        for row in candidates:
            if row.free_count() == 0:
                continue
            names.append(row.row_id)
        else:
            if fallback is not None:
                names.append("fallback:" + str(fallback.free_count()))
        return names
