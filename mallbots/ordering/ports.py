"""What the ordering module needs from other modules (the book's gRPC repositories).

Each is implemented by a small adapter over another module's application service
(:mod:`mallbots.adapters`). A refusal comes back as that module's ``DomainError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from mallbots.ordering.events import OrderItem


class Customers(Protocol):
    def authorize_customer(self, customer_id: str) -> None:
        """Refuse if the customer is unknown or disabled."""
        ...


class Payments(Protocol):
    def confirm_payment(self, payment_id: str, customer_id: str, amount: Decimal) -> None:
        """Refuse unless the payment exists, is the customer's and covers ``amount``."""
        ...


class Shopping(Protocol):
    def create_shopping_list(self, order_id: str, items: Sequence[OrderItem]) -> str:
        """Schedule the bots' shopping for an order; returns the shopping list's id."""
        ...

    def cancel_shopping_list(self, shopping_id: str) -> None: ...


class Invoices(Protocol):
    def create_invoice(self, order_id: str, payment_id: str, amount: Decimal) -> str:
        """Bill a readied order; returns the invoice's id."""
        ...

    def order_of_invoice(self, invoice_id: str) -> str | None:
        """The id of the order an invoice bills, or None if there is no such invoice."""
        ...


class Notifications(Protocol):
    def notify_order_created(self, order_id: str, customer_id: str) -> None: ...

    def notify_order_ready(self, order_id: str, customer_id: str) -> None: ...

    def notify_order_canceled(self, order_id: str, customer_id: str) -> None: ...
