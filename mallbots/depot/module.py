"""The depot module (the book's ``depot/module.go``): one plain table of shopping lists."""

from __future__ import annotations

from mallbots.depot.application import DepotApplication
from mallbots.depot.handlers import OrderHandlers
from mallbots.depot.ports import Orders, Stores
from mallbots.depot.repository import ShoppingListRepository
from mallbots.monolith import Monolith

SCHEMA = "depot"


class DepotModule:
    """Shopping lists in ``depot.shopping_lists``; not event sourced, as in the book."""

    def __init__(self, monolith: Monolith, stores: Stores) -> None:
        self.shopping_lists = ShoppingListRepository(monolith.database, f"{SCHEMA}.shopping_lists")
        self.application = DepotApplication(
            monolith.database, self.shopping_lists, stores, monolith.ids
        )

    def connect(self, orders: Orders) -> None:
        """Ready an order when its list is completed (depot and ordering call each other)."""
        self.application.on_completed.append(OrderHandlers(orders))

    @property
    def tables(self) -> list[str]:
        return [self.shopping_lists.table.name]
