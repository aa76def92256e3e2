"""Where a basket is in its life: open, then canceled or checked out."""

from __future__ import annotations

from enum import StrEnum


class BasketStatus(StrEnum):
    UNKNOWN = ""
    OPEN = "open"
    CANCELED = "canceled"
    CHECKED_OUT = "checked_out"
