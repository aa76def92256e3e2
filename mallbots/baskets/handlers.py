"""The baskets module's reaction to its own events: a checked-out basket becomes an order.

As in the book (``baskets/internal/application/order_handlers.go``), the handler runs
when ``baskets.BasketCheckedOut`` is published. Here it runs inside the checkout's unit
of work, so if the order is refused (customer not authorised, payment not confirmed ...)
the checkout is rolled back with it.
"""

from __future__ import annotations

from mallbots.baskets.events import BASKET_CHECKED_OUT, BasketCheckedOut
from mallbots.baskets.ports import Orders
from mallbots.es import AggregateEvent, EventDispatcher


class OrderHandlers:
    """Creates the order of each checked-out basket."""

    def __init__(self, orders: Orders) -> None:
        self.orders = orders

    def __call__(self, event: AggregateEvent) -> None:
        payload: BasketCheckedOut = event.payload
        self.orders.place_order(
            event.aggregate_id, payload.customer_id, payload.payment_id, payload.items
        )

    def subscribe(self, dispatcher: EventDispatcher) -> None:
        dispatcher.subscribe(self, [BASKET_CHECKED_OUT])
