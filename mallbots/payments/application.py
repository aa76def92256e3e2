"""The payments module's application service: payments and invoices.

As in the book, a payment is authorised for a customer and an amount, and confirmed
when an order is created. Doing better than the book's "does it exist" check, a
confirmation is refused if the payment is another customer's, is too small for the
order, or was already used; and a payment is authorised only for a customer the shop
knows (the book takes any id). An invoice is created when an order is ready; paying it
completes the order. An invoice changes only while pending: the book checks that only
for paying, and adjusts or cancels an invoice in any status.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mallbots.errors import require_text
from mallbots.es import Database
from mallbots.es.ids import IdFactory
from mallbots.money import money
from mallbots.payments.errors import (
    CustomerIdIsBlankError,
    InvoiceAlreadyExistsError,
    InvoiceCannotBeAdjustedError,
    InvoiceCannotBeCanceledError,
    InvoiceCannotBePaidError,
    InvoiceIdIsBlankError,
    InvoiceNotFoundError,
    OrderIdIsBlankError,
    PaymentAlreadyExistsError,
    PaymentAmountIsNegativeError,
    PaymentCannotBeConfirmedError,
    PaymentIdIsBlankError,
    PaymentNotFoundError,
    UnknownCustomerError,
)
from mallbots.payments.ports import Customers, Orders
from mallbots.payments.repository import (
    Invoice,
    InvoiceRepository,
    InvoiceStatus,
    Payment,
    PaymentRepository,
    PaymentStatus,
)
from mallbots.service import ApplicationService, command, query


@dataclass(frozen=True)
class AuthorizePayment:
    customer_id: str
    amount: Any
    """Exact money: a ``Decimal``, an ``int`` or a string such as ``"19.98"``."""
    payment_id: str | None = None
    """Leave out to have the shop make one."""


@dataclass(frozen=True)
class ConfirmPayment:
    payment_id: str
    customer_id: str
    amount: Any
    """What the order costs: the payment must cover it."""


@dataclass(frozen=True)
class GetPayment:
    payment_id: str


@dataclass(frozen=True)
class CreateInvoice:
    order_id: str
    payment_id: str
    amount: Any
    invoice_id: str | None = None
    """Leave out to have the shop make one."""


@dataclass(frozen=True)
class AdjustInvoice:
    invoice_id: str
    amount: Any
    """The new amount, exact money, not negative."""


@dataclass(frozen=True)
class PayInvoice:
    invoice_id: str


@dataclass(frozen=True)
class CancelInvoice:
    invoice_id: str


@dataclass(frozen=True)
class GetInvoice:
    invoice_id: str


@dataclass(frozen=True)
class GetOrderInvoices:
    order_id: str


class PaymentsApplication(ApplicationService):
    """Payments and invoices. ``orders`` is connected once the ordering module exists."""

    def __init__(
        self,
        database: Database,
        payments: PaymentRepository,
        invoices: InvoiceRepository,
        ids: IdFactory,
        customers: Customers,
        orders: Orders | None = None,
    ) -> None:
        super().__init__(database, ids)
        self.payments = payments
        self.invoices = invoices
        self.customers = customers
        self.orders = orders

    @command(AuthorizePayment)
    def authorize_payment(self, cmd: AuthorizePayment) -> str:
        """Authorise an amount for a customer; returns the payment id."""
        payment_id = self.new_id(cmd.payment_id, "payment id", PaymentIdIsBlankError)
        require_text(cmd.customer_id, "customer id", CustomerIdIsBlankError)
        amount = _amount(cmd.amount)
        if self.customers.find_customer(cmd.customer_id) is None:
            raise UnknownCustomerError(cmd.customer_id)
        if self.payments.find(payment_id) is not None:
            raise PaymentAlreadyExistsError(payment_id)
        self.payments.add(Payment(payment_id, cmd.customer_id, amount, PaymentStatus.AUTHORIZED))
        return payment_id

    @command(ConfirmPayment)
    def confirm_payment(self, cmd: ConfirmPayment) -> None:
        """Use an authorised payment for an order of ``amount``."""
        payment = self._payment(cmd.payment_id)
        amount = _amount(cmd.amount)
        if payment.status is not PaymentStatus.AUTHORIZED:
            raise PaymentCannotBeConfirmedError("it was already used")
        if payment.customer_id != cmd.customer_id:
            raise PaymentCannotBeConfirmedError("it belongs to another customer")
        if payment.amount < amount:
            raise PaymentCannotBeConfirmedError(
                f"it authorises {payment.amount}, the order costs {amount}"
            )
        self.payments.set_status(payment.id, PaymentStatus.CONFIRMED)

    @query(GetPayment)
    def get_payment(self, q: GetPayment) -> Payment:
        return self._payment(q.payment_id)

    @command(CreateInvoice)
    def create_invoice(self, cmd: CreateInvoice) -> str:
        """Bill an order; returns the invoice id."""
        invoice_id = self.new_id(cmd.invoice_id, "invoice id", InvoiceIdIsBlankError)
        require_text(cmd.order_id, "order id", OrderIdIsBlankError)
        payment = self._payment(cmd.payment_id)
        if self.invoices.find(invoice_id) is not None:
            raise InvoiceAlreadyExistsError(invoice_id)
        invoice = Invoice(
            invoice_id, cmd.order_id, payment.id, _amount(cmd.amount), InvoiceStatus.PENDING
        )
        self.invoices.add(invoice)
        return invoice_id

    @command(PayInvoice)
    def pay_invoice(self, cmd: PayInvoice) -> None:
        """Mark a pending invoice paid, and complete its order."""
        invoice = self._invoice(cmd.invoice_id)
        if invoice.status is not InvoiceStatus.PENDING:
            raise InvoiceCannotBePaidError(f"it is {invoice.status}")
        if self.orders is None:
            raise RuntimeError("the payments module is not connected to ordering")
        self.invoices.set_status(invoice.id, InvoiceStatus.PAID)
        self.orders.complete_order(invoice.order_id, invoice.id)

    @command(AdjustInvoice)
    def adjust_invoice(self, cmd: AdjustInvoice) -> None:
        """Change what a pending invoice bills (the bots found a price changed, say)."""
        invoice = self._invoice(cmd.invoice_id)
        amount = _amount(cmd.amount)
        if invoice.status is not InvoiceStatus.PENDING:
            raise InvoiceCannotBeAdjustedError(f"it is {invoice.status}")
        self.invoices.set_amount(invoice.id, amount)

    @command(CancelInvoice)
    def cancel_invoice(self, cmd: CancelInvoice) -> None:
        invoice = self._invoice(cmd.invoice_id)
        if invoice.status is not InvoiceStatus.PENDING:
            raise InvoiceCannotBeCanceledError(f"it is {invoice.status}")
        self.invoices.set_status(invoice.id, InvoiceStatus.CANCELED)

    @query(GetInvoice)
    def get_invoice(self, q: GetInvoice) -> Invoice:
        return self._invoice(q.invoice_id)

    @query(GetOrderInvoices)
    def get_order_invoices(self, q: GetOrderInvoices) -> list[Invoice]:
        """The invoices of an order (one per readied order, in practice)."""
        return self.invoices.for_order(require_text(q.order_id, "order id"))

    def find_invoice(self, invoice_id: str) -> Invoice | None:
        """The invoice with this id, or None (the port ordering uses)."""
        return self.invoices.find(invoice_id)

    def _payment(self, payment_id: str) -> Payment:
        payment = self.payments.find(require_text(payment_id, "payment id"))
        if payment is None:
            raise PaymentNotFoundError(payment_id)
        return payment

    def _invoice(self, invoice_id: str) -> Invoice:
        invoice = self.invoices.find(require_text(invoice_id, "invoice id"))
        if invoice is None:
            raise InvoiceNotFoundError(invoice_id)
        return invoice


def _amount(value: Any) -> Decimal:
    amount = money(value, "payment amount")
    if amount < 0:
        raise PaymentAmountIsNegativeError()
    return amount
