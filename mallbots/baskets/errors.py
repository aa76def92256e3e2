"""The baskets module's refusals, with the book's messages where the book has them."""

from __future__ import annotations

from mallbots.errors import AlreadyExistsError, DomainError, NotFoundError


class BasketNotFoundError(NotFoundError):
    what = "basket"


class UnknownCustomerError(NotFoundError):
    what = "customer"


class BasketAlreadyExistsError(AlreadyExistsError):
    what = "basket"


class BasketIdIsBlankError(DomainError):
    message = "the basket id cannot be blank"


class CustomerIdIsBlankError(DomainError):
    message = "the customer id cannot be blank"


class PaymentIdIsBlankError(DomainError):
    message = "the payment id cannot be blank"


class BasketCannotBeModifiedError(DomainError):
    message = "the basket cannot be modified"


class BasketCannotBeCancelledError(DomainError):
    message = "the basket cannot be cancelled"


class BasketHasNoItemsError(DomainError):
    message = "the basket has no items"


class InvalidQuantityError(DomainError):
    """A quantity that is not a whole number of at least 1 (and at most a million)."""

    message = "invalid item quantity"


class QuantityCannotBeNegativeError(InvalidQuantityError):
    message = "the item quantity cannot be negative"


class QuantityCannotBeZeroError(InvalidQuantityError):
    message = "the item quantity cannot be zero"


class ItemNotInBasketError(DomainError):
    message = "the product is not in the basket"


class NotEnoughInBasketError(DomainError):
    message = "cannot remove more than the basket holds"


class UnknownProductError(NotFoundError):
    what = "product"


class UnknownStoreError(NotFoundError):
    what = "store"
