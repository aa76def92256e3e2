"""The payments tables (``payments.payments``, ``payments.invoices``), as in the book's
schema, with a status on payments so one payment pays for one order only."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from mallbots.es import Database
from mallbots.table import Table


class PaymentStatus(StrEnum):
    AUTHORIZED = "authorized"
    CONFIRMED = "confirmed"


class InvoiceStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    CANCELED = "canceled"


@dataclass(frozen=True)
class Payment:
    id: str
    customer_id: str
    amount: Decimal
    status: PaymentStatus


@dataclass(frozen=True)
class Invoice:
    id: str
    order_id: str
    payment_id: str
    amount: Decimal
    status: InvoiceStatus


class PaymentRepository:
    """Finds, adds and updates authorised payments."""

    def __init__(self, database: Database, table: str = "payments.payments") -> None:
        self.table = Table(
            database,
            table,
            {
                "id": "VARCHAR",
                "customer_id": "VARCHAR NOT NULL",
                "amount": "DECIMAL(38, 2) NOT NULL",
                "status": "VARCHAR NOT NULL",
            },
        )

    def find(self, payment_id: str) -> Payment | None:
        row = self.table.get(payment_id)
        return None if row is None else Payment(**{**row, "status": PaymentStatus(row["status"])})

    def add(self, payment: Payment) -> None:
        self.table.insert({**vars(payment), "status": str(payment.status)})

    def set_status(self, payment_id: str, status: PaymentStatus) -> None:
        self.table.update(payment_id, status=str(status))


class InvoiceRepository:
    """Finds, adds and updates invoices."""

    def __init__(self, database: Database, table: str = "payments.invoices") -> None:
        self.table = Table(
            database,
            table,
            {
                "id": "VARCHAR",
                "order_id": "VARCHAR NOT NULL",
                "payment_id": "VARCHAR NOT NULL",
                "amount": "DECIMAL(38, 2) NOT NULL",
                "status": "VARCHAR NOT NULL",
            },
        )

    def find(self, invoice_id: str) -> Invoice | None:
        row = self.table.get(invoice_id)
        return None if row is None else _invoice(row)

    def for_order(self, order_id: str) -> list[Invoice]:
        return [_invoice(row) for row in self.table.select("order_id = $1", [order_id])]

    def add(self, invoice: Invoice) -> None:
        self.table.insert({**vars(invoice), "status": str(invoice.status)})

    def set_status(self, invoice_id: str, status: InvoiceStatus) -> None:
        self.table.update(invoice_id, status=str(status))

    def set_amount(self, invoice_id: str, amount: Decimal) -> None:
        self.table.update(invoice_id, amount=amount)


def _invoice(row: dict) -> Invoice:
    return Invoice(**{**row, "status": InvoiceStatus(row["status"])})
