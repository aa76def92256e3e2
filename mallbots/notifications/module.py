"""The notifications module (the book's ``notifications/module.go``): one plain table."""

from __future__ import annotations

from mallbots.monolith import Monolith
from mallbots.notifications.application import NotificationsApplication
from mallbots.notifications.ports import Customers
from mallbots.notifications.repository import NotificationRepository

SCHEMA = "notifications"


class NotificationsModule:
    """Notifications in ``notifications.notifications``; not event sourced."""

    def __init__(self, monolith: Monolith, customers: Customers) -> None:
        self.notifications = NotificationRepository(monolith.database, f"{SCHEMA}.notifications")
        self.application = NotificationsApplication(
            monolith.database, self.notifications, customers, monolith.clock, monolith.ids
        )

    @property
    def tables(self) -> list[str]:
        return [self.notifications.table.name]
