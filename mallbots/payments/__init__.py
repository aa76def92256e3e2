"""The payments module: authorised payments, confirmed by orders, and invoices."""

from mallbots.payments.application import (
    AdjustInvoice,
    AuthorizePayment,
    CancelInvoice,
    ConfirmPayment,
    CreateInvoice,
    GetInvoice,
    GetOrderInvoices,
    GetPayment,
    PayInvoice,
    PaymentsApplication,
)
from mallbots.payments.module import PaymentsModule
from mallbots.payments.repository import Invoice, InvoiceStatus, Payment, PaymentStatus

__all__ = [
    "AdjustInvoice",
    "AuthorizePayment",
    "CancelInvoice",
    "ConfirmPayment",
    "CreateInvoice",
    "GetInvoice",
    "GetOrderInvoices",
    "GetPayment",
    "Invoice",
    "InvoiceStatus",
    "PayInvoice",
    "Payment",
    "PaymentStatus",
    "PaymentsApplication",
    "PaymentsModule",
]
