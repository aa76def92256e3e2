"""What the depot needs from other modules: where a store is, and readying an order."""

from __future__ import annotations

from typing import Protocol


class StoreView(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def location(self) -> str: ...


class Stores(Protocol):
    def find_store(self, store_id: str) -> StoreView | None: ...


class Orders(Protocol):
    def ready_order(self, order_id: str) -> None:
        """The order's shopping is done (refused unless the order is pending)."""
        ...
