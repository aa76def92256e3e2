"""The depot module's refusals."""

from __future__ import annotations

from mallbots.errors import AlreadyExistsError, DomainError, NotFoundError


class ShoppingListNotFoundError(NotFoundError):
    what = "shopping list"


class ShoppingListAlreadyExistsError(AlreadyExistsError):
    what = "shopping list"


class ShoppingListIdIsBlankError(DomainError):
    message = "the shopping list id cannot be blank"


class OrderIdIsBlankError(DomainError):
    message = "the order id cannot be blank"


class ShoppingListHasNoItemsError(DomainError):
    message = "the shopping list has no items"


class ShoppingCannotBeCanceledError(DomainError):
    message = "the shopping list cannot be canceled"


class UnknownStoreError(NotFoundError):
    what = "store"


class BotIdIsBlankError(DomainError):
    message = "the bot id cannot be blank"


class ShoppingListCannotBeAssignedError(DomainError):
    message = "the shopping list cannot be assigned"


class ShoppingListCannotBeCompletedError(DomainError):
    message = "the shopping list cannot be completed"
