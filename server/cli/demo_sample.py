"""The module `qwen-lsp demo` completes (copied to a temporary folder): the body of order_total."""

from dataclasses import dataclass


@dataclass
class Order:
    price: float
    quantity: int


def order_total(orders: list[Order]) -> float:
    """The total price of all orders."""
    
