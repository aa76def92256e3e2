"""The notifications table (``notifications.notifications``): every message sent.

The book's notifications module only logs; here each notification is a row, so a
reader can see what the customer was told and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mallbots.es import Database
from mallbots.table import Table


@dataclass(frozen=True)
class Notification:
    id: str
    order_id: str
    customer_id: str
    sms_number: str
    kind: str
    message: str
    sent_at: datetime


class NotificationRepository:
    """Adds notifications and lists them."""

    def __init__(self, database: Database, table: str = "notifications.notifications") -> None:
        self.table = Table(
            database,
            table,
            {
                "id": "VARCHAR",
                "order_id": "VARCHAR NOT NULL",
                "customer_id": "VARCHAR NOT NULL",
                "sms_number": "VARCHAR NOT NULL",
                "kind": "VARCHAR NOT NULL",
                "message": "VARCHAR NOT NULL",
                "sent_at": "TIMESTAMPTZ NOT NULL",
            },
        )

    def add(self, notification: Notification) -> None:
        self.table.insert(vars(notification))

    def for_order(self, order_id: str) -> list[Notification]:
        rows = self.table.select("order_id = $1", [order_id], order_by="sent_at, id")
        return [Notification(**row) for row in rows]
