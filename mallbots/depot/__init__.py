"""The depot module: the shopping lists the bots work through, one per order."""

from mallbots.depot.application import (
    AssignShoppingList,
    CancelShoppingList,
    CompleteShoppingList,
    CreateShoppingList,
    DepotApplication,
    GetShoppingList,
    ShoppingItem,
)
from mallbots.depot.module import DepotModule
from mallbots.depot.repository import ShoppingList, ShoppingListStatus, Stop, StopItem

__all__ = [
    "AssignShoppingList",
    "CancelShoppingList",
    "CompleteShoppingList",
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
