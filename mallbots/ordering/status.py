"""Where an order is in its life: pending, then ready and completed, or cancelled.

The book also names an "in-progress" status that nothing ever sets; it is left out.
"""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    UNKNOWN = ""
    PENDING = "pending"
    READY = "ready"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
