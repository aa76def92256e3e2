"""What the payments module needs from other modules: completing the order an invoice
paid, and knowing the customers."""

from __future__ import annotations

from typing import Protocol


class Orders(Protocol):
    def complete_order(self, order_id: str, invoice_id: str) -> None: ...


class Customers(Protocol):
    def find_customer(self, customer_id: str) -> object | None:
        """The customer with this id, or None."""
        ...
