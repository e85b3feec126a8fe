"""A pricing service: remote calls with keyword arguments, omitted defaults, keyword
arguments out of order and computed by remote calls; client calls with kwargs, and
calls with wrong arguments (TypeError)."""
from typing import Dict, List, Optional

from stateflow import stateflow


@stateflow
class PriceList:
    def __init__(self, name: str, base: int = 10, currency: str = "EUR"):
        self.name: str = name
        self.base: int = base
        self.currency: str = currency
        self.quotes: int = 0

    def __key__(self):
        return self.name

    def quote(self, qty: int, scale: int = 1, discount: int = 0) -> int:
        self.quotes += 1
        return qty * self.base * scale - discount

    def label(self, amount: int, prefix: str = "", suffix: Optional[str] = None) -> str:
        text = f"{prefix}{amount} {self.currency}"
        if suffix is not None:
            text += suffix
        return text

    def configure(self, base: Optional[int] = None, currency: Optional[str] = None) -> List:
        if base is not None:
            self.base = base
        if currency is not None:
            self.currency = currency
        return [self.base, self.currency]

    def tiers(self, levels: List[int], extra: Dict[str, int] = {}) -> Dict[str, int]:
        out: Dict[str, int] = {}
        for lv in levels:
            out[str(lv)] = lv * self.base + extra.get(str(lv), 0)
        return out


@stateflow
class Shop:
    def __init__(self, name: str, prices: PriceList):
        self.name: str = name
        self.prices: PriceList = prices
        self.receipts: List[str] = []

    def __key__(self):
        return self.name

    def plain(self, qty: int) -> int:
        return self.prices.quote(qty)

    def scaled(self, qty: int) -> int:
        return self.prices.quote(qty, scale=3)

    def positional_all(self, qty: int) -> int:
        return self.prices.quote(qty, 2, 5)

    def reordered(self, qty: int) -> int:
        return self.prices.quote(discount=4, qty=qty)

    def skip_middle(self, qty: int) -> int:
        return self.prices.quote(qty, discount=1)

    def kw_from_remote(self, qty: int, other: PriceList) -> int:
        return self.prices.quote(qty, scale=other.quote(1), discount=other.quote(0, discount=-2))

    def receipt(self, qty: int, vip: bool = False) -> str:
        amount = self.prices.quote(qty, scale=2 if vip else 1)
        if vip:
            text = self.prices.label(amount, prefix="VIP ", suffix="!")
        else:
            text = self.prices.label(amount)
        self.receipts.append(text)
        return text

    def reprice(self, base: int) -> List:
        return self.prices.configure(base=base)

    def recurrency(self, currency: str) -> List:
        return self.prices.configure(currency=currency)

    def tiered(self, levels: List[int], bonus: int = 0) -> Dict[str, int]:
        if bonus:
            return self.prices.tiers(levels, extra={str(levels[0]): bonus})
        return self.prices.tiers(levels)
