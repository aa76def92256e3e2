"""The customers module's refusals, with the book's messages."""

from __future__ import annotations

from mallbots.errors import AlreadyExistsError, DomainError, NotFoundError


class CustomerNotFoundError(NotFoundError):
    what = "customer"


class CustomerAlreadyExistsError(AlreadyExistsError):
    what = "customer"


class CustomerIdIsBlankError(DomainError):
    message = "the customer id cannot be blank"


class CustomerNameIsBlankError(DomainError):
    message = "the customer name cannot be blank"


class SmsNumberIsBlankError(DomainError):
    message = "the SMS number cannot be blank"


class CustomerAlreadyEnabledError(DomainError):
    message = "the customer is already enabled"


class CustomerAlreadyDisabledError(DomainError):
    message = "the customer is already disabled"


class CustomerNotAuthorizedError(DomainError):
    message = "customer is not authorized"
