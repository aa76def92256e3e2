"""The shopping lists table (``depot.shopping_lists``), as in the book's schema.

A list's stops (one per store, with the products to pick up there) are kept as JSON
text, as the book keeps them as a JSON blob.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

from mallbots.es import Database
from mallbots.table import Table


class ShoppingListStatus(StrEnum):
    AVAILABLE = "available"
    ASSIGNED = "assigned"
    COMPLETED = "completed"
    CANCELED = "canceled"


@dataclass(frozen=True)
class StopItem:
    product_id: str
    product_name: str
    quantity: int


@dataclass(frozen=True)
class Stop:
    """A store the bot visits, and what it picks up there."""

    store_id: str
    store_name: str
    store_location: str
    items: tuple[StopItem, ...]


@dataclass(frozen=True)
class ShoppingList:
    id: str
    order_id: str
    stops: tuple[Stop, ...]
    assigned_bot_id: str
    status: ShoppingListStatus


class ShoppingListRepository:
    """Finds, adds and updates shopping lists."""

    def __init__(self, database: Database, table: str = "depot.shopping_lists") -> None:
        self.table = Table(
            database,
            table,
            {
                "id": "VARCHAR",
                "order_id": "VARCHAR NOT NULL",
                "stops": "VARCHAR NOT NULL",
                "assigned_bot_id": "VARCHAR NOT NULL",
                "status": "VARCHAR NOT NULL",
            },
        )

    def find(self, shopping_list_id: str) -> ShoppingList | None:
        row = self.table.get(shopping_list_id)
        if row is None:
            return None
        stops = tuple(
            Stop(**{**stop, "items": tuple(StopItem(**item) for item in stop["items"])})
            for stop in json.loads(row["stops"])
        )
        return ShoppingList(
            row["id"],
            row["order_id"],
            stops,
            row["assigned_bot_id"],
            ShoppingListStatus(row["status"]),
        )

    def add(self, shopping_list: ShoppingList) -> None:
        stops = [
            {
                "store_id": stop.store_id,
                "store_name": stop.store_name,
                "store_location": stop.store_location,
                "items": [vars(item) for item in stop.items],
            }
            for stop in shopping_list.stops
        ]
        self.table.insert(
            {
                **vars(shopping_list),
                "stops": json.dumps(stops, separators=(",", ":"), ensure_ascii=False),
                "status": str(shopping_list.status),
            }
        )

    def set_status(self, shopping_list_id: str, status: ShoppingListStatus) -> None:
        self.table.update(shopping_list_id, status=str(status))

    def assign(self, shopping_list_id: str, bot_id: str) -> None:
        """Give the list to a bot."""
        self.table.update(
            shopping_list_id, assigned_bot_id=bot_id, status=str(ShoppingListStatus.ASSIGNED)
        )
