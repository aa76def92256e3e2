"""Snapshot payload of the Basket aggregate (``baskets.BasketV1``)."""

from __future__ import annotations

from dataclasses import dataclass

from mallbots.baskets.events import Item
from mallbots.baskets.status import BasketStatus

BASKET_V1 = "baskets.BasketV1"


@dataclass(frozen=True)
class BasketV1:
    customer_id: str
    payment_id: str
    items: tuple[Item, ...]
    status: BasketStatus
