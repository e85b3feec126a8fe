"""An order pipeline: user exceptions raised by a callee propagate to the caller's call
site and on to the client (through several levels), writes made before the failing call
stay, and plain-code errors (ValueError, KeyError, ZeroDivisionError, IndexError,
AssertionError) are raised after remote calls in split methods. try/except is used only
around local code."""
from typing import Dict, List

from stateflow import stateflow


class ShopError(Exception):
    pass


class OutOfStock(ShopError):
    pass


class PaymentDeclined(ShopError):
    def __init__(self, who: str, amount: int):
        super().__init__(f"{who} cannot pay {amount}")
        self.who = who
        self.amount = amount


def parse_qty(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


@stateflow
class Stock:
    def __init__(self, sku: str, units: int):
        self.sku: str = sku
        self.units: int = units
        self.reserved: List[int] = []

    def __key__(self):
        return self.sku

    def reserve(self, n: int) -> int:
        if n > self.units:
            raise OutOfStock(self.sku)
        self.units -= n
        self.reserved.append(n)
        return self.units

    def units_left(self) -> int:
        return self.units

    def code(self) -> str:
        return self.sku.upper()


@stateflow
class Wallet:
    def __init__(self, owner: str, money: int):
        self.owner: str = owner
        self.money: int = money
        self.attempts: int = 0

    def __key__(self):
        return self.owner

    def pay(self, amount: int) -> int:
        self.attempts += 1
        if amount > self.money:
            raise PaymentDeclined(self.owner, amount)
        self.money -= amount
        return self.money


@stateflow
class Checkout:
    def __init__(self, name: str, unit_price: int):
        self.name: str = name
        self.unit_price: int = unit_price
        self.log: List[str] = []
        self.prices: Dict[str, int] = {"APPLE": 3}

    def __key__(self):
        return self.name

    def order(self, stock: Stock, wallet: Wallet, n: int) -> int:
        self.log.append(f"order {n}")
        stock.reserve(n)
        self.log.append("reserved")
        wallet.pay(n * self.unit_price)
        self.log.append("paid")
        return n * self.unit_price

    def order_text(self, stock: Stock, wallet: Wallet, qty: str) -> int:
        n = parse_qty(qty)
        if n <= 0:
            raise ValueError(f"bad quantity {qty!r}")
        return self.order(stock, wallet, n)

    def nested(self, other: "Checkout", stock: Stock, wallet: Wallet, n: int) -> int:
        self.log.append("nested")
        total = other.order(stock, wallet, n)
        self.log.append("nested done")
        return total

    def per_unit(self, stock: Stock, budget: int) -> int:
        left = stock.units_left()
        self.log.append(f"left {left}")
        return budget // left

    def price_of(self, stock: Stock) -> int:
        return self.prices[stock.code()]

    def checked(self, stock: Stock, n: int) -> int:
        left = stock.reserve(n)
        assert left >= 2, "stock too low"
        return left

    def pick(self, stock: Stock, options: List[int]) -> int:
        return options[stock.units_left()]

    def safe_ratio(self, stock: Stock, total: int) -> str:
        left = stock.units_left()
        try:
            ratio = total // left
        except ZeroDivisionError:
            ratio = -1
        return f"ratio {ratio}"

    def raise_after(self, stock: Stock) -> None:
        code = stock.code()
        self.log.append(code)
        raise ShopError(f"closed: {code}")
