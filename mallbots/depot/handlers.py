"""The depot's reactions to its own changes (the book's ``depot/internal/handlers``).

The book's depot publishes ``ShoppingListCompleted`` and its order handler calls the
ordering module's ``ReadyOrder``. The depot keeps plain rows, not events, so here the
completed list is handed to these handlers directly, inside the command's unit of work:
a refusal by the order (it was cancelled, say) leaves the list as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from mallbots.depot.ports import Orders


@dataclass(frozen=True)
class ShoppingListCompleted:
    """The bots have picked up everything on the list."""

    shopping_list_id: str
    order_id: str


class OrderHandlers:
    """Readies the order of a completed shopping list."""

    def __init__(self, orders: Orders) -> None:
        self.orders = orders

    def __call__(self, completed: ShoppingListCompleted) -> None:
        self.orders.ready_order(completed.order_id)
