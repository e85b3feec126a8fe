"""An inventory report: for loops over a parameter list, range(remote), a dict field (keys,
items, values), a local list, a remote call's result and a self field, with remote calls
in the loop bodies."""
from typing import Dict, List

from stateflow import stateflow


@stateflow
class Product:
    def __init__(self, sku: str, price: int, stock: int):
        self.sku: str = sku
        self.price: int = price
        self.stock: int = stock
        self.audits: int = 0

    def __key__(self):
        return self.sku

    def value(self) -> int:
        self.audits += 1
        return self.price * self.stock

    def get_stock(self) -> int:
        return self.stock

    def restock(self, n: int) -> int:
        self.stock += n
        return self.stock

    def tags(self) -> List[str]:
        return [self.sku[0], "p" + str(self.price)]


@stateflow
class Warehouse:
    def __init__(self, name: str):
        self.name: str = name
        self.shelves: Dict[str, Product] = {}
        self.products: List[Product] = []
        self.log: List[str] = []

    def __key__(self):
        return self.name

    def add(self, shelf: str, p: Product) -> int:
        self.shelves[shelf] = p
        self.products.append(p)
        return len(self.products)

    def shelf_names(self) -> List[str]:
        return list(self.shelves.keys())

    def total_value(self, items: List[Product]) -> int:
        total = 0
        for p in items:
            total += p.value()
        return total

    def restock_n(self, p: Product, times: int) -> List[int]:
        levels: List[int] = []
        for i in range(times):
            levels.append(p.restock(i + 1))
        return levels

    def repeat_stock(self, p: Product, other: Product) -> int:
        n = 0
        for _ in range(other.get_stock()):
            n += 1
            p.restock(1)
        return n

    def by_shelf(self) -> Dict[str, int]:
        out: Dict[str, int] = {}
        for shelf in self.shelves:
            out[shelf] = self.shelves[shelf].get_stock()
        return out

    def by_shelf_items(self) -> List[str]:
        lines: List[str] = []
        for shelf, p in self.shelves.items():
            lines.append(f"{shelf}:{p.get_stock()}")
        return lines

    def stock_values(self) -> int:
        total = 0
        for p in self.shelves.values():
            total += p.get_stock()
        return total

    def plain_dict(self, counts: Dict[str, int], p: Product) -> int:
        for key, n in counts.items():
            self.log.append(key)
            p.restock(n)
        return p.get_stock()

    def over_local(self, a: Product, b: Product) -> List[int]:
        pair: List[Product] = [b, a, b]
        seen: List[int] = []
        for p in pair:
            seen.append(p.restock(0))
        return seen

    def over_remote_result(self, other: "Warehouse") -> List[str]:
        names: List[str] = []
        for shelf in other.shelf_names():
            names.append(shelf.upper())
        return names

    def all_tags(self) -> List[str]:
        tags: List[str] = []
        for p in self.products:
            for t in p.tags():
                tags.append(t)
        return tags

    def numbered(self, items: List[Product]) -> List[str]:
        out: List[str] = []
        for i, p in enumerate(items):
            out.append(f"{i}:{p.get_stock()}")
        return out

    def grid(self, a: Product, rows: int, cols: int) -> int:
        for r in range(rows):
            for c in range(cols):
                a.restock(r * c)
        return a.get_stock()
