"""Snapshot payload of the Order aggregate (``ordering.OrderV1``)."""

from __future__ import annotations

from dataclasses import dataclass

from mallbots.ordering.events import OrderItem
from mallbots.ordering.status import OrderStatus

ORDER_V1 = "ordering.OrderV1"


@dataclass(frozen=True)
class OrderV1:
    customer_id: str
    payment_id: str
    invoice_id: str
    shopping_id: str
    items: tuple[OrderItem, ...]
    status: OrderStatus
