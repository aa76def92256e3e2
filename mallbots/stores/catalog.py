"""The catalog read model: every product on sale, with its store and exact price.

It is the book's ``stores.products`` table, kept by :class:`CatalogProjection` from the
product events and read by :class:`Catalog`, which answers the product queries.
A removed product leaves the catalog, as in the book.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

import pandas as pd

from mallbots.es import AggregateEvent, Database, RowBuffer, RowProjection, on
from mallbots.frames import exact_frame
from mallbots.stores.events import (
    PRODUCT_ADDED,
    PRODUCT_PRICE_DECREASED,
    PRODUCT_PRICE_INCREASED,
    PRODUCT_REBRANDED,
    PRODUCT_REMOVED,
)

COLUMNS = "id, store_id, name, description, sku, price"


@dataclass(frozen=True)
class CatalogProduct:
    """A product as the catalog shows it."""

    id: str
    store_id: str
    name: str
    description: str
    sku: str
    price: Decimal


class CatalogProjection(RowProjection):
    """Keeps ``<schema>.products`` (id, store_id, name, description, sku, price)."""

    NAME = "catalog"
    table_name = "products"
    columns: ClassVar[dict[str, str]] = {
        "id": "VARCHAR",
        "store_id": "VARCHAR NOT NULL",
        "name": "VARCHAR NOT NULL",
        "description": "VARCHAR NOT NULL",
        "sku": "VARCHAR NOT NULL",
        "price": "DECIMAL(18, 2) NOT NULL",
    }

    @on(PRODUCT_ADDED)
    def product_added(self, rows: RowBuffer, event: AggregateEvent) -> None:
        payload = event.payload
        rows.put(
            {
                "id": event.aggregate_id,
                "store_id": payload.store_id,
                "name": payload.name,
                "description": payload.description,
                "sku": payload.sku,
                "price": payload.price,
            }
        )

    @on(PRODUCT_REBRANDED)
    def product_rebranded(self, rows: RowBuffer, event: AggregateEvent) -> None:
        payload = event.payload
        rows.update(event.aggregate_id, name=payload.name, description=payload.description)

    @on(PRODUCT_PRICE_INCREASED, PRODUCT_PRICE_DECREASED)
    def price_changed(self, rows: RowBuffer, event: AggregateEvent) -> None:
        row = rows.get(event.aggregate_id)
        if row is not None:
            rows.update(event.aggregate_id, price=row["price"] + event.payload.delta)

    @on(PRODUCT_REMOVED)
    def product_removed(self, rows: RowBuffer, event: AggregateEvent) -> None:
        rows.delete(event.aggregate_id)


class Catalog:
    """Queries over the catalog read model, in a stable order (name, then id)."""

    def __init__(self, database: Database, table: str) -> None:
        self.database = database
        self.table = table

    def find(self, product_id: str) -> CatalogProduct | None:
        """The product with this id, or None (also once it is removed)."""
        rows = self._select("WHERE id = $1", [product_id])
        return rows[0] if rows else None

    def of_store(self, store_id: str) -> list[CatalogProduct]:
        """The products a store sells."""
        return self._select("WHERE store_id = $1", [store_id])

    def frame(self) -> pd.DataFrame:
        """The read model as a DataFrame."""
        return exact_frame(
            self.database, f"SELECT {COLUMNS} FROM {self.table} ORDER BY store_id, name, id"
        )

    def _select(self, where: str, parameters: list) -> list[CatalogProduct]:
        rows = self.database.execute(
            f"SELECT {COLUMNS} FROM {self.table} {where} ORDER BY name, id", parameters
        ).fetchall()
        return [CatalogProduct(*row) for row in rows]
