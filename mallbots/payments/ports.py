"""What the payments module needs from ordering: completing the order an invoice paid."""

from __future__ import annotations

from typing import Protocol


class Orders(Protocol):
    def complete_order(self, order_id: str, invoice_id: str) -> None: ...
