"""The notifications module: SMS messages telling customers about their orders."""

from mallbots.notifications.application import (
    GetNotifications,
    NotificationsApplication,
    NotifyOrderCanceled,
    NotifyOrderCreated,
    NotifyOrderReady,
)
from mallbots.notifications.module import NotificationsModule
from mallbots.notifications.repository import Notification

__all__ = [
    "GetNotifications",
    "Notification",
    "NotificationsApplication",
    "NotificationsModule",
    "NotifyOrderCanceled",
    "NotifyOrderCreated",
    "NotifyOrderReady",
]
