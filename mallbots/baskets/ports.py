"""What the baskets module needs from other modules (the book's gRPC repositories).

The stores module implements :class:`Catalog` with its read models; the ordering module
implements :class:`Orders` through a small adapter (:mod:`mallbots.adapters`).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from mallbots.baskets.events import Item


class ProductView(Protocol):
    """A product as the baskets module needs to see it."""

    @property
    def id(self) -> str: ...
    @property
    def store_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def price(self) -> Decimal: ...


class StoreView(Protocol):
    """A store as the baskets module needs to see it."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...


class Catalog(Protocol):
    """Looks products and their stores up; None for an unknown (or removed) one."""

    def find_product(self, product_id: str) -> ProductView | None: ...

    def find_store(self, store_id: str) -> StoreView | None: ...


class Customers(Protocol):
    """Looks customers up; None for an unknown one."""

    def find_customer(self, customer_id: str) -> object | None: ...


class Orders(Protocol):
    """Places the order for a checked-out basket."""

    def order_id_for(self, basket_id: str) -> str:
        """The id the order of this basket has (or will have)."""
        ...

    def place_order(
        self, basket_id: str, customer_id: str, payment_id: str, items: Sequence[Item]
    ) -> str:
        """Create the order; returns its id."""
        ...
