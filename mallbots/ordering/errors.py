"""The ordering module's refusals, with the book's messages where the book has them.

The book leaves the status checks of ready and complete as "validate status" TODOs;
here each has its own error.
"""

from __future__ import annotations

from mallbots.errors import DomainError, NotFoundError


class OrderNotFoundError(NotFoundError):
    what = "order"


class OrderIdIsBlankError(DomainError):
    message = "the order id cannot be blank"


class OrderAlreadyCreatedError(DomainError):
    message = "the order cannot be recreated"


class OrderHasNoItemsError(DomainError):
    message = "the order has no items"


class InvalidOrderItemError(DomainError):
    message = "invalid order item"


class CustomerIdIsBlankError(DomainError):
    message = "the customer id cannot be blank"


class PaymentIdIsBlankError(DomainError):
    message = "the payment id cannot be blank"


class InvoiceIdIsBlankError(DomainError):
    message = "the invoice id cannot be blank"


class OrderCannotBeCancelledError(DomainError):
    message = "the order cannot be cancelled"


class OrderCannotBeReadiedError(DomainError):
    message = "the order cannot be readied"


class OrderCannotBeCompletedError(DomainError):
    message = "the order cannot be completed"


class UnknownInvoiceError(NotFoundError):
    what = "invoice"


class InvoiceOfAnotherOrderError(DomainError):
    message = "the invoice bills another order"
