"""The notifications module's application service: tell customers about their orders.

The ordering module's handlers call these when an order is created, ready or
cancelled. The SMS number comes from the customers module; the time from the clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from mallbots.errors import require_text
from mallbots.es import Database
from mallbots.es.clock import Clock
from mallbots.es.ids import IdFactory
from mallbots.notifications.errors import UnknownCustomerError
from mallbots.notifications.ports import Customers
from mallbots.notifications.repository import Notification, NotificationRepository
from mallbots.service import ApplicationService, command, query


@dataclass(frozen=True)
class NotifyOrderCreated:
    order_id: str
    customer_id: str


@dataclass(frozen=True)
class NotifyOrderReady:
    order_id: str
    customer_id: str


@dataclass(frozen=True)
class NotifyOrderCanceled:
    order_id: str
    customer_id: str


@dataclass(frozen=True)
class GetNotifications:
    order_id: str


MESSAGES = {
    NotifyOrderCreated: ("order_created", "{name}, your order {order} has been placed."),
    NotifyOrderReady: ("order_ready", "{name}, your order {order} is ready for pickup."),
    NotifyOrderCanceled: ("order_canceled", "{name}, your order {order} has been cancelled."),
}


class NotificationsApplication(ApplicationService):
    """Records one SMS notification per call."""

    def __init__(
        self,
        database: Database,
        notifications: NotificationRepository,
        customers: Customers,
        clock: Clock,
        ids: IdFactory,
    ) -> None:
        super().__init__(database, ids)
        self.notifications = notifications
        self.customers = customers
        self.clock = clock

    @command(NotifyOrderCreated)
    def notify_order_created(self, cmd: NotifyOrderCreated) -> None:
        self._notify(cmd)

    @command(NotifyOrderReady)
    def notify_order_ready(self, cmd: NotifyOrderReady) -> None:
        self._notify(cmd)

    @command(NotifyOrderCanceled)
    def notify_order_canceled(self, cmd: NotifyOrderCanceled) -> None:
        self._notify(cmd)

    @query(GetNotifications)
    def get_notifications(self, q: GetNotifications) -> list[Notification]:
        """What an order's customer was told, oldest first."""
        return self.notifications.for_order(require_text(q.order_id, "order id"))

    def _notify(self, cmd: NotifyOrderCreated | NotifyOrderReady | NotifyOrderCanceled) -> None:
        order_id = require_text(cmd.order_id, "order id")
        customer = self.customers.find_customer(require_text(cmd.customer_id, "customer id"))
        if customer is None:
            raise UnknownCustomerError(cmd.customer_id)
        kind, template = MESSAGES[type(cmd)]
        self.notifications.add(
            Notification(
                id=self.ids(),
                order_id=order_id,
                customer_id=cmd.customer_id,
                sms_number=customer.sms_number,
                kind=kind,
                message=template.format(name=customer.name, order=order_id),
                sent_at=self.clock(),
            )
        )
