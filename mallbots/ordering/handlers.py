"""The ordering module's reactions to its own events (the book's notification and
invoice handlers): tell the customer, and bill an order once it is ready.
"""

from __future__ import annotations

from mallbots.es import AggregateEvent, EventDispatcher
from mallbots.ordering.events import ORDER_CANCELED, ORDER_CREATED, ORDER_READIED
from mallbots.ordering.ports import Invoices, Notifications


class NotificationHandlers:
    """Notifies the customer when an order is created, ready or cancelled."""

    def __init__(self, notifications: Notifications) -> None:
        self.notifications = notifications

    def __call__(self, event: AggregateEvent) -> None:
        order_id, customer_id = event.aggregate_id, event.payload.customer_id
        if event.name == ORDER_CREATED:
            self.notifications.notify_order_created(order_id, customer_id)
        elif event.name == ORDER_READIED:
            self.notifications.notify_order_ready(order_id, customer_id)
        elif event.name == ORDER_CANCELED:
            self.notifications.notify_order_canceled(order_id, customer_id)

    def subscribe(self, dispatcher: EventDispatcher) -> None:
        dispatcher.subscribe(self, [ORDER_CREATED, ORDER_READIED, ORDER_CANCELED])


class InvoiceHandlers:
    """Creates the invoice of an order once it is ready."""

    def __init__(self, invoices: Invoices) -> None:
        self.invoices = invoices

    def __call__(self, event: AggregateEvent) -> None:
        payload = event.payload
        self.invoices.create_invoice(event.aggregate_id, payload.payment_id, payload.total)

    def subscribe(self, dispatcher: EventDispatcher) -> None:
        dispatcher.subscribe(self, [ORDER_READIED])
