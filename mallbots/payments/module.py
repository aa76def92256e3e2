"""The payments module (the book's ``payments/module.go``): two plain tables."""

from __future__ import annotations

from mallbots.monolith import Monolith
from mallbots.payments.application import PaymentsApplication
from mallbots.payments.ports import Customers, Orders
from mallbots.payments.repository import InvoiceRepository, PaymentRepository

SCHEMA = "payments"


class PaymentsModule:
    """Payments and invoices; not event sourced, as in the book."""

    def __init__(
        self, monolith: Monolith, customers: Customers, orders: Orders | None = None
    ) -> None:
        self.payments = PaymentRepository(monolith.database, f"{SCHEMA}.payments")
        self.invoices = InvoiceRepository(monolith.database, f"{SCHEMA}.invoices")
        self.application = PaymentsApplication(
            monolith.database, self.payments, self.invoices, monolith.ids, customers, orders
        )

    def connect(self, orders: Orders) -> None:
        """Give payments its way to complete orders (the two modules call each other)."""
        self.application.orders = orders

    @property
    def tables(self) -> list[str]:
        return [self.payments.table.name, self.invoices.table.name]
