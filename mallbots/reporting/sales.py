"""Sales per store: quantities and revenue from orders, fed by the ordering *and* stores events.

Orders say what was sold (``ordering.OrderCreated`` lines, each with its store), and take
it back (``ordering.OrderCanceled``); the stores module says what each store is called
now (``stores.StoreCreated``, ``stores.StoreRebranded``). Two tables:

- ``<schema>.sales_lines``: one row per order and store, the facts, marked once cancelled;
- ``<schema>.store_sales``: one row per store, totals over its lines, cancelled apart.

A cancellation carries no lines of its own, so this projection is SQL rather than Python
handlers: each batch adds its lines, marks its cancellations, and recounts the totals of
the stores it touched from their lines. Recounting from the facts, rather than adding
and subtracting, is what keeps a total from ever counting a line twice; and the same
totals query serves the set-based rebuild.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal

import duckdb
import pandas as pd

from mallbots.es import AggregateEvent, Database, Projection, sql
from mallbots.frames import exact_frame
from mallbots.ordering.events import ORDER_CANCELED, ORDER_CREATED
from mallbots.stores.events import STORE_CREATED, STORE_REBRANDED

STORE_COLUMNS = (
    "store_id, name, orders, quantity, revenue, canceled_orders, canceled_quantity, "
    "canceled_revenue"
)


class StoreSalesProjection(Projection):
    """Keeps ``<schema>.sales_lines`` and ``<schema>.store_sales``."""

    NAME = "sales"
    handles = frozenset({STORE_CREATED, STORE_REBRANDED, ORDER_CREATED, ORDER_CANCELED})

    @property
    def lines(self) -> str:
        return f"{self.schema}.sales_lines"

    @property
    def stores(self) -> str:
        return f"{self.schema}.store_sales"

    @property
    def tables(self) -> list[str]:
        return [self.stores, self.lines]

    def setup(self, cursor: duckdb.DuckDBPyConnection) -> None:
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
        cursor.execute(
            f"""
            CREATE TABLE IF NOT EXISTS {self.lines} (
                order_id VARCHAR, store_id VARCHAR, quantity BIGINT NOT NULL,
                revenue DECIMAL(38, 2) NOT NULL, canceled BOOLEAN NOT NULL,
                PRIMARY KEY (order_id, store_id)
            )
            """
        )
        cursor.execute(
            f"""
            CREATE TABLE IF NOT EXISTS {self.stores} (
                store_id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL DEFAULT '',
                orders BIGINT NOT NULL DEFAULT 0, quantity BIGINT NOT NULL DEFAULT 0,
                revenue DECIMAL(38, 2) NOT NULL DEFAULT 0,
                canceled_orders BIGINT NOT NULL DEFAULT 0,
                canceled_quantity BIGINT NOT NULL DEFAULT 0,
                canceled_revenue DECIMAL(38, 2) NOT NULL DEFAULT 0
            )
            """
        )

    # --- event by event (in batches) -----------------------------------------------------

    def apply(self, cursor: duckdb.DuckDBPyConnection, events: Sequence[AggregateEvent]) -> None:
        names: dict[str, str] = {}
        created: dict[str, list[list]] = {}
        canceled: set[str] = set()
        for event in events:
            if event.name in (STORE_CREATED, STORE_REBRANDED):
                names[event.aggregate_id] = event.payload.name
            elif event.name == ORDER_CREATED:
                created[event.aggregate_id] = _lines(event)
                canceled.discard(event.aggregate_id)
            elif event.name == ORDER_CANCELED:
                canceled.add(event.aggregate_id)
        if names:
            cursor.execute(
                f"INSERT INTO {self.stores} (store_id, name) SELECT unnest($1), unnest($2) "
                "ON CONFLICT (store_id) DO UPDATE SET name = excluded.name",
                [list(names), list(names.values())],
            )
        touched = self._replace_lines(cursor, created)
        if canceled:
            touched |= {
                store_id
                for (store_id,) in cursor.execute(
                    f"UPDATE {self.lines} SET canceled = true "
                    "WHERE order_id IN (SELECT unnest($1)) RETURNING store_id",
                    [sorted(canceled)],
                ).fetchall()
            }
        if touched:
            self._recount(cursor, "(SELECT unnest($1) AS store_id)", [sorted(touched)])

    def _replace_lines(self, cursor: duckdb.DuckDBPyConnection, created: dict) -> set[str]:
        """Write the lines of orders created in this batch; returns the stores they touch."""
        if not created:
            return set()
        cursor.execute(
            f"DELETE FROM {self.lines} WHERE order_id IN (SELECT unnest($1))", [list(created)]
        )
        orders, stores, quantities, revenues = zip(
            *(row for lines in created.values() for row in lines), strict=True
        )
        cursor.execute(
            f"INSERT INTO {self.lines} SELECT unnest($1), unnest($2), unnest($3), "
            "unnest($4)::DECIMAL(38, 2), false",
            [list(orders), list(stores), list(quantities), [str(r) for r in revenues]],
        )
        return set(stores)

    def _recount(self, cursor: duckdb.DuckDBPyConnection, stores: str, parameters: list) -> None:
        """Set the totals of ``stores`` (a relation of ``store_id``) from their lines."""
        cursor.execute(
            f"""
            INSERT OR REPLACE INTO {self.stores} ({STORE_COLUMNS})
            SELECT s.store_id, coalesce(any_value(n.name), ''),
                count(l.order_id) FILTER (WHERE NOT l.canceled),
                coalesce(sum(l.quantity) FILTER (WHERE NOT l.canceled), 0),
                coalesce(sum(l.revenue) FILTER (WHERE NOT l.canceled), 0),
                count(l.order_id) FILTER (WHERE l.canceled),
                coalesce(sum(l.quantity) FILTER (WHERE l.canceled), 0),
                coalesce(sum(l.revenue) FILTER (WHERE l.canceled), 0)
            FROM {stores} s
            LEFT JOIN {self.stores} n ON n.store_id = s.store_id
            LEFT JOIN {self.lines} l ON l.store_id = s.store_id
            GROUP BY s.store_id
            """,
            parameters,
        )

    # --- the whole log at once -------------------------------------------------------------

    def rebuild_set_based(self, cursor: duckdb.DuckDBPyConnection, events: str) -> None:
        # an order's lines are those of its last OrderCreated, cancelled if a cancel follows
        cursor.execute(
            f"""
            INSERT INTO {self.lines}
            WITH events AS NOT MATERIALIZED ({events}),
            orders AS (
                SELECT aggregate_id,
                    {sql.last_position(ORDER_CREATED)} AS created_at,
                    coalesce({sql.last_position(ORDER_CANCELED)} > created_at, false)
                        AS canceled
                FROM events WHERE {sql.where_name(ORDER_CREATED, ORDER_CANCELED)}
                GROUP BY aggregate_id HAVING created_at IS NOT NULL
            )
            SELECT o.aggregate_id, item->>'store_id',
                sum((item->>'quantity')::BIGINT),
                sum((item->>'price')::DECIMAL(18, 2) * (item->>'quantity')::BIGINT),
                any_value(o.canceled)
            FROM orders o JOIN events e ON e.position = o.created_at,
                unnest(json_extract(e.event_data, '$.items[*]')) AS t(item)
            GROUP BY o.aggregate_id, item->>'store_id'
            """
        )
        named = (STORE_CREATED, STORE_REBRANDED)
        cursor.execute(
            f"""
            INSERT INTO {self.stores} (store_id, name)
            WITH events AS NOT MATERIALIZED ({events})
            SELECT aggregate_id, {sql.last(sql.text("name"), *named)}
            FROM events WHERE {sql.where_name(*named)} GROUP BY aggregate_id
            """
        )
        self._recount(
            cursor,
            f"(SELECT store_id FROM {self.stores} UNION SELECT store_id FROM {self.lines})",
            [],
        )


def _lines(event: AggregateEvent) -> list[list]:
    """``[order_id, store_id, quantity, revenue]`` per store of an ``OrderCreated``."""
    quantity: dict[str, int] = defaultdict(int)
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    for item in event.payload.items:
        quantity[item.store_id] += item.quantity
        revenue[item.store_id] += item.price * item.quantity
    return [[event.aggregate_id, store, quantity[store], revenue[store]] for store in quantity]


class StoreSales:
    """Queries over the sales read model."""

    def __init__(self, database: Database, projection: StoreSalesProjection) -> None:
        self.database = database
        self.projection = projection

    def frame(self) -> pd.DataFrame:
        """Every store's sales, best sellers first."""
        return exact_frame(
            self.database,
            f"SELECT {STORE_COLUMNS} FROM {self.projection.stores} ORDER BY revenue DESC, store_id",
        )

    def lines(self, store_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """The order lines behind the totals (of some stores)."""
        where, parameters = "", None
        if store_ids is not None:
            where, parameters = "WHERE store_id IN (SELECT unnest($1))", [list(store_ids)]
        return exact_frame(
            self.database,
            f"SELECT * FROM {self.projection.lines} {where} ORDER BY store_id, order_id",
            parameters,
        )
