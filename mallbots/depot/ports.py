"""What the depot needs from the stores module: where a store is."""

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
