"""The stores module's refusals, with the book's messages where the book has them."""

from __future__ import annotations

from mallbots.errors import AlreadyExistsError, DomainError, NotFoundError


class StoreNotFoundError(NotFoundError):
    what = "store"


class StoreAlreadyExistsError(AlreadyExistsError):
    what = "store"


class StoreIdIsBlankError(DomainError):
    message = "the store id cannot be blank"


class StoreNameIsBlankError(DomainError):
    message = "the store name cannot be blank"


class StoreLocationIsBlankError(DomainError):
    message = "the store location cannot be blank"


class StoreIsAlreadyParticipatingError(DomainError):
    message = "the store is already participating"


class StoreIsAlreadyNotParticipatingError(DomainError):
    message = "the store is already not participating"


class ProductNotFoundError(NotFoundError):
    what = "product"


class ProductAlreadyExistsError(AlreadyExistsError):
    what = "product"


class ProductIdIsBlankError(DomainError):
    message = "the product id cannot be blank"


class ProductNameIsBlankError(DomainError):
    message = "the product name cannot be blank"


class ProductPriceIsNegativeError(DomainError):
    message = "the product price cannot be negative"


class NotAPriceIncreaseError(DomainError):
    message = "the price change would be a decrease"


class NotAPriceDecreaseError(DomainError):
    message = "the price change would be an increase"


class PriceUnchangedError(DomainError):
    message = "the price change would leave the price as it is"


class ProductIsRemovedError(DomainError):
    message = "the product has been removed"


class BooksClosedError(DomainError):
    message = "the product's books are closed"
