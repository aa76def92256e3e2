"""Exact money: ``Decimal`` amounts with at most two decimal places.

The book keeps money in ``float64``, so ``0.1 + 0.2`` is not ``0.3`` and a price
increased and decreased by the same amount may not come back. Here every amount goes
through :func:`money`: it must be a ``Decimal``, an ``int`` or a string such as
``"9.99"``, finite, with at most two decimal places, and it comes back as a ``Decimal``
with exactly two (``Decimal("10.00")``), so sums and JSON are exact and stable.

Floats are refused rather than converted: ``9.99`` as a float is not 9.99.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from mallbots.errors import InvalidInputError

CENT = Decimal("0.01")
LIMIT = Decimal(10) ** 15
"""Amounts must stay below a quadrillion, so every sum fits a ``DECIMAL(38, 2)`` column."""

ZERO = Decimal("0.00")


class MoneyError(InvalidInputError):
    """An amount that is not exact money."""

    message = "invalid money"


def money(value: Any, what: str = "amount") -> Decimal:
    """``value`` as exact money (two decimal places), or :class:`MoneyError` saying why."""
    if type(value) is Decimal and value.same_quantum(CENT) and -LIMIT < value < LIMIT:
        return value  # already exact money (finite, two places): quantizing gives its twin
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise MoneyError(
            f"the {what} must be a Decimal, an int or a string like '9.99', "
            f"not {type(value).__name__} {value!r}"
        )
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise MoneyError(f"the {what} {value!r} is not a number") from None
    if not amount.is_finite():
        raise MoneyError(f"the {what} must be a finite number, not {value!r}")
    if abs(amount) >= LIMIT:
        raise MoneyError(f"the {what} {value!r} is too large (the limit is {LIMIT:,})")
    exact = amount.quantize(CENT)
    if exact != amount:
        raise MoneyError(f"the {what} {value!r} has more than 2 decimal places")
    return exact


def total(lines: Any) -> Decimal:
    """The exact sum of ``price * quantity`` over ``(price, quantity)`` pairs."""
    return sum((Decimal(price) * quantity for price, quantity in lines), ZERO).quantize(CENT)
