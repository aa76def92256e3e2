"""The errors a MallBots command is refused with.

Every refusal is a :class:`DomainError` (a ``ValueError``): a rule of the domain said no,
nothing was written, and the message says which rule. Each module extends these with
its own typed errors (``StoreNameIsBlankError``, ``BasketHasNoItemsError`` ...), so a
caller can catch one kind of refusal or all of them.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(ValueError):
    """A command refused by a rule of the domain; nothing was written."""

    message: ClassVar[str] = "the command was refused"
    """The rule, in words; each subclass states its own."""

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail
        super().__init__(self.message if detail is None else f"{self.message}: {detail}")


class InvalidInputError(DomainError):
    """A value of the wrong kind: a number where text belongs, a float for money ..."""

    message = "invalid input"


class _AboutAnId(DomainError):
    what: ClassVar[str] = "thing"
    state: ClassVar[str] = ""

    def __init__(self, id: str) -> None:
        self.id = id
        self.detail = None
        ValueError.__init__(self, f"{self.what} {id!r} {self.state}")


class NotFoundError(_AboutAnId):
    """A command or query named an id that does not exist."""

    state = "not found"


class AlreadyExistsError(_AboutAnId):
    """A creating command named an id that is already taken."""

    state = "already exists"


def require_text(value: Any, what: str, blank: type[DomainError] | None = None) -> str:
    """``value`` if it is a string; with ``blank`` given, refuse blank strings with it."""
    if not isinstance(value, str):
        raise InvalidInputError(f"the {what} must be text, not {type(value).__name__} {value!r}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no database or JSON can hold it
            raise InvalidInputError(
                f"the {what} is not valid Unicode text (it holds a lone surrogate)"
            ) from None
    if blank is not None and not value.strip():
        raise blank()
    return value
