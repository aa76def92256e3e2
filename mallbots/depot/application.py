"""The depot module's application service: shopping lists for the bots.

Creating a list groups an order's items by store, in the order they come, and looks
each store's location up through the stores module (an unknown store is refused).
Products are taken as the basket recorded them (name when added), not looked up again:
the book's depot finds every product in the catalog, so a product removed after it went
into a basket makes the whole checkout fail; here the order a customer was promised
still reaches the bots.

A list is then assigned to a bot and completed, which readies its order (the book's
handler of ``ShoppingListCompleted``, :mod:`mallbots.depot.handlers`), all in the one
unit of work of ``CompleteShoppingList``. The book leaves the status checks as TODOs;
here a list is assigned only while available, completed only once assigned, and
cancelled only before it is completed (the book's ``isCancelable``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mallbots.depot.errors import (
    BotIdIsBlankError,
    OrderIdIsBlankError,
    ShoppingCannotBeCanceledError,
    ShoppingListAlreadyExistsError,
    ShoppingListCannotBeAssignedError,
    ShoppingListCannotBeCompletedError,
    ShoppingListHasNoItemsError,
    ShoppingListIdIsBlankError,
    ShoppingListNotFoundError,
    UnknownStoreError,
)
from mallbots.depot.handlers import ShoppingListCompleted
from mallbots.depot.ports import Stores
from mallbots.depot.repository import (
    ShoppingList,
    ShoppingListRepository,
    ShoppingListStatus,
    Stop,
    StopItem,
)
from mallbots.errors import require_text
from mallbots.es import Database
from mallbots.es.ids import IdFactory
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
class AssignShoppingList:
    shopping_list_id: str
    bot_id: str


@dataclass(frozen=True)
class CompleteShoppingList:
    shopping_list_id: str


@dataclass(frozen=True)
class GetShoppingList:
    shopping_list_id: str


CANCELABLE = frozenset({ShoppingListStatus.AVAILABLE, ShoppingListStatus.ASSIGNED})
"""The statuses a list can be cancelled in (the book's ``isCancelable``; it has no
``active`` step here, since no command of the book's makes a list active)."""


class DepotApplication(ApplicationService):
    """Shopping lists: created available, assigned to a bot, completed or cancelled."""

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
        self.on_completed: list[Callable[[ShoppingListCompleted], None]] = []
        """Handlers of a completed list (the module subscribes the order handler)."""

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
        """Cancel a list the bots have not completed."""
        shopping_list = self._get(cmd.shopping_list_id)
        if shopping_list.status not in CANCELABLE:
            raise ShoppingCannotBeCanceledError(f"it is {shopping_list.status}")
        self.shopping_lists.set_status(shopping_list.id, ShoppingListStatus.CANCELED)

    @command(AssignShoppingList)
    def assign_shopping_list(self, cmd: AssignShoppingList) -> None:
        """Give an available list to a bot."""
        shopping_list = self._get(cmd.shopping_list_id)
        require_text(cmd.bot_id, "bot id", BotIdIsBlankError)
        if shopping_list.status is not ShoppingListStatus.AVAILABLE:
            raise ShoppingListCannotBeAssignedError(f"it is {shopping_list.status}")
        self.shopping_lists.assign(shopping_list.id, cmd.bot_id)

    @command(CompleteShoppingList)
    def complete_shopping_list(self, cmd: CompleteShoppingList) -> None:
        """The bot has done the shopping: the list is completed and its order readied."""
        shopping_list = self._get(cmd.shopping_list_id)
        if shopping_list.status is not ShoppingListStatus.ASSIGNED:
            raise ShoppingListCannotBeCompletedError(f"it is {shopping_list.status}")
        self.shopping_lists.set_status(shopping_list.id, ShoppingListStatus.COMPLETED)
        completed = ShoppingListCompleted(shopping_list.id, shopping_list.order_id)
        for handler in self.on_completed:
            handler(completed)

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
