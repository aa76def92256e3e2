"""The catalog read model: every product on sale, with its store and exact price.

It is the book's ``stores.products`` table, kept by :class:`CatalogProjection` from the
product events and read by :class:`Catalog`, which answers the product queries.
A removed product leaves the catalog, as in the book. A product whose books were closed
stays: the opening event of its new stream carries it forward under the same id.

:meth:`CatalogProjection.rows_sql` builds the same table from the whole log in one SQL
pass: a product's row is made by its last ``ProductAdded`` (or ``ProductBooksOpened``)
unless a ``ProductRemoved`` follows; its name is that of the last event naming it, its
price that of the last one pricing it plus every delta since.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

import pandas as pd

from mallbots.es import AggregateEvent, Database, RowBuffer, RowProjection, on, set_based
from mallbots.frames import exact_frame
from mallbots.stores.events import (
    PRODUCT_ADDED,
    PRODUCT_BOOKS_OPENED,
    PRODUCT_PRICE_DECREASED,
    PRODUCT_PRICE_INCREASED,
    PRODUCT_REBRANDED,
    PRODUCT_REMOVED,
)
from mallbots.stores.upcasters import PRICE_SQL, SKU_SQL

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

    @on(PRODUCT_ADDED, PRODUCT_BOOKS_OPENED)
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
        row = rows.edit(event.aggregate_id)
        if row is not None:
            row["price"] += event.payload.delta

    @on(PRODUCT_REMOVED)
    def product_removed(self, rows: RowBuffer, event: AggregateEvent) -> None:
        rows.delete(event.aggregate_id)

    def rows_sql(self) -> str:
        made, named = (PRODUCT_ADDED, PRODUCT_BOOKS_OPENED), (PRODUCT_REBRANDED,)
        priced = (PRODUCT_PRICE_INCREASED, PRODUCT_PRICE_DECREASED)
        # The price is that of the last making event plus the deltas after it. When that
        # event is the product's first (nearly always), that is every delta; the few
        # products made again (books closed) sum theirs after it in ``remade``.
        return f"""
            WITH products AS (
                SELECT aggregate_id,
                    {set_based.last(set_based.text("store_id"), *made)} AS store_id,
                    {set_based.last(set_based.text("name"), *made, *named)} AS name,
                    {set_based.last(set_based.text("description"), *made, *named)} AS description,
                    {set_based.last(SKU_SQL, *made)} AS sku,
                    {set_based.last(PRICE_SQL, *made)} AS made_price,
                    {set_based.total(set_based.money("delta"), *priced)} AS deltas,
                    {set_based.last_position(*made)} AS made_at,
                    {set_based.last_position(PRODUCT_REMOVED)} AS removed_at,
                    min(position) < {set_based.last_position(*made)} AS remade
                FROM events GROUP BY aggregate_id
            ), remade AS (
                SELECT e.aggregate_id, sum({set_based.money("delta")}) AS deltas
                FROM events e JOIN products p
                    ON p.remade AND e.aggregate_id = p.aggregate_id AND e.position > p.made_at
                WHERE {set_based.where_name(*priced)}
                GROUP BY e.aggregate_id
            )
            SELECT p.aggregate_id AS id, store_id, name, description, sku,
                (made_price + coalesce(CASE WHEN remade THEN r.deltas ELSE p.deltas END, 0))
                    ::DECIMAL(18, 2) AS price
            FROM products p LEFT JOIN remade r USING (aggregate_id)
            WHERE made_at IS NOT NULL AND (removed_at IS NULL OR removed_at < made_at)
        """


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
