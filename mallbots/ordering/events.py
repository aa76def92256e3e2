"""The ordering module's events: names as stored, payloads as frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

ORDER_CREATED = "ordering.OrderCreated"
ORDER_CANCELED = "ordering.OrderCanceled"
ORDER_READIED = "ordering.OrderReadied"
ORDER_COMPLETED = "ordering.OrderCompleted"


@dataclass(frozen=True)
class OrderItem:
    """A line of an order (the book's ``ordering/internal/domain/item.go``)."""

    product_id: str
    store_id: str
    store_name: str
    product_name: str
    price: Decimal
    quantity: int


@dataclass(frozen=True)
class OrderCreated:
    customer_id: str
    payment_id: str
    shopping_id: str
    items: tuple[OrderItem, ...]


@dataclass(frozen=True)
class OrderCanceled:
    customer_id: str


@dataclass(frozen=True)
class OrderReadied:
    customer_id: str
    payment_id: str
    total: Decimal


@dataclass(frozen=True)
class OrderCompleted:
    invoice_id: str
