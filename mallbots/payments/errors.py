"""The payments module's refusals."""

from __future__ import annotations

from mallbots.errors import AlreadyExistsError, DomainError, NotFoundError


class PaymentNotFoundError(NotFoundError):
    what = "payment"


class PaymentAlreadyExistsError(AlreadyExistsError):
    what = "payment"


class PaymentIdIsBlankError(DomainError):
    message = "the payment id cannot be blank"


class CustomerIdIsBlankError(DomainError):
    message = "the customer id cannot be blank"


class PaymentAmountIsNegativeError(DomainError):
    message = "the payment amount cannot be negative"


class PaymentCannotBeConfirmedError(DomainError):
    message = "payment cannot be confirmed"


class InvoiceNotFoundError(NotFoundError):
    what = "invoice"


class InvoiceAlreadyExistsError(AlreadyExistsError):
    what = "invoice"


class InvoiceIdIsBlankError(DomainError):
    message = "the invoice id cannot be blank"


class OrderIdIsBlankError(DomainError):
    message = "the order id cannot be blank"


class InvoiceCannotBePaidError(DomainError):
    message = "invoice cannot be paid for"


class InvoiceCannotBeCanceledError(DomainError):
    message = "invoice cannot be canceled"


class InvoiceCannotBeAdjustedError(DomainError):
    message = "invoice cannot be adjusted"


class UnknownCustomerError(NotFoundError):
    what = "customer"
