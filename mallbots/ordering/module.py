"""The ordering module, wired like the book's ``ordering/module.go``.

Events and snapshots live in ``ordering.events`` and ``ordering.snapshots``. An order
is read back from its stream (``GetOrder``), as in the book: no read model.
"""

from __future__ import annotations

from mallbots.es import Registry
from mallbots.monolith import Monolith
from mallbots.ordering import events, snapshots
from mallbots.ordering.application import OrderingApplication
from mallbots.ordering.handlers import InvoiceHandlers, NotificationHandlers
from mallbots.ordering.order import Order
from mallbots.ordering.ports import Customers, Invoices, Notifications, Payments, Shopping

SCHEMA = "ordering"


def registrations(registry: Registry) -> Registry:
    """Register the ordering module's event and snapshot names on ``registry``."""
    registry.register_event(events.ORDER_CREATED, events.OrderCreated)
    registry.register_event(events.ORDER_CANCELED, events.OrderCanceled)
    registry.register_event(events.ORDER_READIED, events.OrderReadied)
    registry.register_event(events.ORDER_COMPLETED, events.OrderCompleted)
    registry.register_snapshot(snapshots.ORDER_V1, snapshots.OrderV1)
    return registry


class OrderingModule:
    """Orders, event sourced, talking to customers, payments, depot and notifications."""

    def __init__(
        self,
        monolith: Monolith,
        customers: Customers,
        payments: Payments,
        shopping: Shopping,
        invoices: Invoices,
        notifications: Notifications,
    ) -> None:
        self.registry = registrations(Registry())
        sourcing = monolith.event_sourcing(self.registry, SCHEMA)
        self.events = sourcing.events
        self.snapshots = sourcing.snapshots
        self.orders = sourcing.repository(Order)
        self.application = OrderingApplication(
            monolith.database, self.orders, customers, payments, shopping, invoices, monolith.ids
        )
        NotificationHandlers(notifications).subscribe(monolith.dispatcher)
        InvoiceHandlers(invoices).subscribe(monolith.dispatcher)
