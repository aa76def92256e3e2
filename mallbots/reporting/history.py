"""A customer's history: every basket and order, fed by the baskets *and* ordering events.

The book's read models each follow one module. This one follows two: a basket's life
comes from ``baskets.*`` events, the order it became from ``ordering.*`` events, and the
projector hands both to it in log order behind one checkpoint. One row per basket and
per order, keyed by ``(kind, id)``: a basket and an order may share an id.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

import pandas as pd

from mallbots.baskets.events import (
    BASKET_CANCELED,
    BASKET_CHECKED_OUT,
    BASKET_STARTED,
)
from mallbots.baskets.status import BasketStatus
from mallbots.es import AggregateEvent, Database, RowBuffer, RowProjection, on, set_based
from mallbots.frames import exact_frame
from mallbots.money import total
from mallbots.ordering.events import (
    ORDER_CANCELED,
    ORDER_COMPLETED,
    ORDER_CREATED,
    ORDER_READIED,
)
from mallbots.ordering.status import OrderStatus

BASKET, ORDER = "basket", "order"

BASKET_STATUS = {
    BASKET_STARTED: BasketStatus.OPEN.value,
    BASKET_CANCELED: BasketStatus.CANCELED.value,
    BASKET_CHECKED_OUT: BasketStatus.CHECKED_OUT.value,
}
ORDER_STATUS = {
    ORDER_CREATED: OrderStatus.PENDING.value,
    ORDER_READIED: OrderStatus.READY.value,
    ORDER_COMPLETED: OrderStatus.COMPLETED.value,
    ORDER_CANCELED: OrderStatus.CANCELLED.value,
}
"""The status each event leaves a basket or order in (one table for handlers and SQL)."""

BASKET_ENDS = (BASKET_CANCELED, BASKET_CHECKED_OUT)
ORDER_ENDS = (ORDER_COMPLETED, ORDER_CANCELED)


class CustomerHistoryProjection(RowProjection):
    """Keeps ``<schema>.customer_history``: one row per basket and per order."""

    NAME = "history"
    table_name = "customer_history"
    key = ("kind", "id")
    find_by = "id"  # a basket and an order rarely share an id: rows are found by it
    columns: ClassVar[dict[str, str]] = {
        "kind": "VARCHAR",
        "id": "VARCHAR",
        "customer_id": "VARCHAR NOT NULL",
        "status": "VARCHAR NOT NULL",
        "items": "BIGINT",
        "total": "DECIMAL(38, 2)",
        "started_at": "TIMESTAMPTZ NOT NULL",
        "ended_at": "TIMESTAMPTZ",
    }

    def keys_of(self, event: AggregateEvent) -> tuple[tuple[str, str]]:
        return ((BASKET if event.name in BASKET_STATUS else ORDER, event.aggregate_id),)

    @on(BASKET_STARTED)
    def basket_started(self, rows: RowBuffer, event: AggregateEvent) -> None:
        self._start(rows, event, BASKET, BASKET_STATUS, None, None)

    @on(ORDER_CREATED)
    def order_created(self, rows: RowBuffer, event: AggregateEvent) -> None:
        items = event.payload.items
        quantity = sum(item.quantity for item in items)
        self._start(rows, event, ORDER, ORDER_STATUS, quantity, _total(items, "price"))

    @on(BASKET_CANCELED)
    def basket_canceled(self, rows: RowBuffer, event: AggregateEvent) -> None:
        self._move(rows, event, BASKET, BASKET_STATUS, ended_at=event.occurred_at)

    @on(BASKET_CHECKED_OUT)
    def basket_checked_out(self, rows: RowBuffer, event: AggregateEvent) -> None:
        items = event.payload.items
        self._move(
            rows,
            event,
            BASKET,
            BASKET_STATUS,
            items=sum(item.quantity for item in items),
            total=_total(items, "product_price"),
            ended_at=event.occurred_at,
        )

    @on(ORDER_READIED)
    def order_readied(self, rows: RowBuffer, event: AggregateEvent) -> None:
        self._move(rows, event, ORDER, ORDER_STATUS)

    @on(ORDER_COMPLETED, ORDER_CANCELED)
    def order_ended(self, rows: RowBuffer, event: AggregateEvent) -> None:
        self._move(rows, event, ORDER, ORDER_STATUS, ended_at=event.occurred_at)

    @staticmethod
    def _start(
        rows: RowBuffer,
        event: AggregateEvent,
        kind: str,
        statuses: dict[str, str],
        items: int | None,
        amount: Decimal | None,
    ) -> None:
        rows.put(
            {
                "kind": kind,
                "id": event.aggregate_id,
                "customer_id": event.payload.customer_id,
                "status": statuses[event.name],
                "items": items,
                "total": amount,
                "started_at": event.occurred_at,
                "ended_at": None,
            }
        )

    @staticmethod
    def _move(
        rows: RowBuffer, event: AggregateEvent, kind: str, statuses: dict[str, str], **more: Any
    ) -> None:
        rows.update((kind, event.aggregate_id), status=statuses[event.name], **more)

    def rows_sql(self) -> str:
        return f"""
            WITH lines AS (
                SELECT position,
                    sum((item->>'quantity')::BIGINT) AS items,
                    sum(coalesce(item->>'price', item->>'product_price')::DECIMAL(18, 2)
                        * (item->>'quantity')::BIGINT) AS total
                FROM events, unnest(json_extract(event_data, '$.items[*]')) AS t(item)
                WHERE {set_based.where_name(BASKET_CHECKED_OUT, ORDER_CREATED)}
                GROUP BY position
            ), facts AS (
                SELECT events.*, lines.items AS line_items, lines.total AS line_total
                FROM events LEFT JOIN lines USING (position)
            )
            {self._kind_sql(BASKET, BASKET_STATUS, BASKET_ENDS, BASKET_CHECKED_OUT)}
            UNION ALL
            {self._kind_sql(ORDER, ORDER_STATUS, ORDER_ENDS, ORDER_CREATED)}
        """

    @staticmethod
    def _kind_sql(kind: str, statuses: dict[str, str], ends: tuple[str, ...], priced: str) -> str:
        """The rows of one kind: made by its first status, priced by ``priced``."""
        made = (next(iter(statuses)),)
        return f"""
            SELECT '{kind}' AS kind, aggregate_id AS id,
                {set_based.last(set_based.text("customer_id"), *made)} AS customer_id,
                {set_based.last_mapped(statuses)} AS status,
                {set_based.last_since("line_items", made, priced)} AS items,
                {set_based.last_since("line_total", made, priced)} AS total,
                {set_based.last("occurred_at", *made)} AS started_at,
                {set_based.last_since("occurred_at", made, *ends)} AS ended_at
            FROM facts WHERE {set_based.where_name(*statuses)}
            GROUP BY aggregate_id HAVING {set_based.last_position(*made)} IS NOT NULL
        """


def _total(items: Any, price: str) -> Decimal:
    return total((getattr(item, price), item.quantity) for item in items)


class CustomerHistory:
    """Queries over the customer history read model."""

    def __init__(self, database: Database, table: str) -> None:
        self.database = database
        self.table = table

    def frame(self, customer_id: str | None = None) -> pd.DataFrame:
        """Every basket and order (of one customer), oldest first."""
        where, parameters = (
            ("", None) if customer_id is None else ("WHERE customer_id = $1", [customer_id])
        )
        frame = exact_frame(
            self.database,
            f"SELECT customer_id, kind, id, status, items, total, started_at, ended_at "
            f"FROM {self.table} {where} ORDER BY customer_id, started_at, kind, id",
            parameters,
        )
        return frame.astype({"items": "Int64"})  # whole numbers, with gaps while open
