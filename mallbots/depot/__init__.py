"""The depot module: the shopping lists the bots work through, one per order."""

from mallbots.depot.application import (
    CancelShoppingList,
    CreateShoppingList,
    DepotApplication,
    GetShoppingList,
    ShoppingItem,
)
from mallbots.depot.module import DepotModule
from mallbots.depot.repository import ShoppingList, ShoppingListStatus, Stop, StopItem

__all__ = [
    "CancelShoppingList",
    "CreateShoppingList",
    "DepotApplication",
    "DepotModule",
    "GetShoppingList",
    "ShoppingItem",
    "ShoppingList",
    "ShoppingListStatus",
    "Stop",
    "StopItem",
]
