"""The baskets module's events: names as stored, payloads as frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

BASKET_STARTED = "baskets.BasketStarted"
BASKET_ITEM_ADDED = "baskets.BasketItemAdded"
BASKET_ITEM_REMOVED = "baskets.BasketItemRemoved"
BASKET_CANCELED = "baskets.BasketCanceled"
BASKET_CHECKED_OUT = "baskets.BasketCheckedOut"


@dataclass(frozen=True)
class Item:
    """A line of a basket: a product, the store selling it, its price then, and how many."""

    store_id: str
    product_id: str
    store_name: str
    product_name: str
    product_price: Decimal
    quantity: int


@dataclass(frozen=True)
class BasketStarted:
    customer_id: str


@dataclass(frozen=True)
class BasketItemAdded:
    item: Item


@dataclass(frozen=True)
class BasketItemRemoved:
    product_id: str
    quantity: int


@dataclass(frozen=True)
class BasketCanceled:
    pass


@dataclass(frozen=True)
class BasketCheckedOut:
    payment_id: str
    customer_id: str
    items: tuple[Item, ...]
    """The lines in the order they were first added (the book sends a map)."""
