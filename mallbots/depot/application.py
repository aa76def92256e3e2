"""The depot module's application service: shopping lists for the bots.

Creating a list groups an order's items by store, in the order they come, and looks
each store's location up through the stores module (an unknown store is refused).
Products are taken as the basket recorded them (name when added), not looked up again:
the book's depot finds every product in the catalog, so a product removed after it went
into a basket makes the whole checkout fail; here the order a customer was promised
still reaches the bots.
Assigning bots and completing lists (the rest of the book's depot) is left out: no
part of the checkout needs it.
"""

from __future__ import annotations

from dataclasses import dataclass

from mallbots.depot.errors import (
    OrderIdIsBlankError,
    ShoppingCannotBeCanceledError,
    ShoppingListAlreadyExistsError,
    ShoppingListHasNoItemsError,
    ShoppingListIdIsBlankError,
    ShoppingListNotFoundError,
    UnknownStoreError,
)
from mallbots.depot.ports import Stores
from mallbots.depot.repository import (
    ShoppingList,
    ShoppingListRepository,
    ShoppingListStatus,
    Stop,
    StopItem,
)
from mallbots.errors import require_text
from mallbots.es import Database, IdFactory
from mallbots.service import ApplicationService, command, query


@dataclass(frozen=True)
class ShoppingItem:
    """One product of an order to pick up."""

    store_id: str
    product_id: str
    product_name: str
    quantity: int


@dataclass(frozen=True)
class CreateShoppingList:
    order_id: str
    items: tuple[ShoppingItem, ...]
    shopping_list_id: str | None = None
    """Leave out to have the shop make one."""


@dataclass(frozen=True)
class CancelShoppingList:
    shopping_list_id: str


@dataclass(frozen=True)
class GetShoppingList:
    shopping_list_id: str


class DepotApplication(ApplicationService):
    """Shopping lists: created available, cancelled while not yet done."""

    def __init__(
        self,
        database: Database,
        shopping_lists: ShoppingListRepository,
        stores: Stores,
        ids: IdFactory,
    ) -> None:
        super().__init__(database, ids)
        self.shopping_lists = shopping_lists
        self.stores = stores

    @command(CreateShoppingList)
    def create_shopping_list(self, cmd: CreateShoppingList) -> str:
        """Schedule the shopping of an order; returns the list's id."""
        list_id = self.new_id(cmd.shopping_list_id, "shopping list id", ShoppingListIdIsBlankError)
        require_text(cmd.order_id, "order id", OrderIdIsBlankError)
        if not cmd.items:
            raise ShoppingListHasNoItemsError()
        if self.shopping_lists.find(list_id) is not None:
            raise ShoppingListAlreadyExistsError(list_id)
        stops = self._stops(cmd.items)
        self.shopping_lists.add(
            ShoppingList(list_id, cmd.order_id, stops, "", ShoppingListStatus.AVAILABLE)
        )
        return list_id

    @command(CancelShoppingList)
    def cancel_shopping_list(self, cmd: CancelShoppingList) -> None:
        shopping_list = self._get(cmd.shopping_list_id)
        if shopping_list.status is not ShoppingListStatus.AVAILABLE:
            raise ShoppingCannotBeCanceledError(f"it is {shopping_list.status}")
        self.shopping_lists.set_status(shopping_list.id, ShoppingListStatus.CANCELED)

    @query(GetShoppingList)
    def get_shopping_list(self, q: GetShoppingList) -> ShoppingList:
        return self._get(q.shopping_list_id)

    def _stops(self, items: tuple[ShoppingItem, ...]) -> tuple[Stop, ...]:
        by_store: dict[str, list[StopItem]] = {}
        for item in items:
            by_store.setdefault(item.store_id, []).append(
                StopItem(item.product_id, item.product_name, item.quantity)
            )
        stops = []
        for store_id, stop_items in by_store.items():
            store = self.stores.find_store(store_id)
            if store is None:
                raise UnknownStoreError(store_id)
            stops.append(Stop(store_id, store.name, store.location, tuple(stop_items)))
        return tuple(stops)

    def _get(self, shopping_list_id: str) -> ShoppingList:
        found = self.shopping_lists.find(require_text(shopping_list_id, "shopping list id"))
        if found is None:
            raise ShoppingListNotFoundError(shopping_list_id)
        return found
