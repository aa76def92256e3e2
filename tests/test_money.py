"""Exact money: what is accepted, what is refused and why, and that sums stay exact."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mallbots.errors import DomainError, InvalidInputError
from mallbots.money import LIMIT, MoneyError, money, total


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("9.99", Decimal("9.99")),
        (" 2.5 ", Decimal("2.50")),
        (3, Decimal("3.00")),
        (Decimal("1.500"), Decimal("1.50")),
        (Decimal("-4.2"), Decimal("-4.20")),
        ("0", Decimal("0.00")),
    ],
)
def test_money_is_an_exact_decimal_with_two_places(value, expected):
    amount = money(value)
    assert amount == expected
    assert amount.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (9.99, "the price must be a Decimal, an int or a string like '9.99', not float 9.99"),
        (True, "the price must be a Decimal, an int or a string like '9.99', not bool True"),
        (None, "the price must be a Decimal, an int or a string like '9.99', not NoneType None"),
        ("ten", "the price 'ten' is not a number"),
        ("NaN", "the price must be a finite number, not 'NaN'"),
        (Decimal("-Infinity"), "the price must be a finite number, not Decimal('-Infinity')"),
        ("1.999", "the price '1.999' has more than 2 decimal places"),
        (LIMIT, f"the price {LIMIT!r} is too large (the limit is 1,000,000,000,000,000)"),
    ],
)
def test_anything_else_is_refused_with_a_reason(value, problem):
    with pytest.raises(MoneyError) as refused:
        money(value, "price")
    assert str(refused.value) == f"invalid money: {problem}"
    assert isinstance(refused.value, InvalidInputError | DomainError | ValueError)


def test_a_total_is_exact_where_floats_are_not():
    assert 0.1 * 3 != 0.3
    assert total([(Decimal("0.10"), 3)]) == Decimal("0.30")
    assert total([]) == Decimal("0.00")


cents = st.integers(-(10**17) + 1, 10**17 - 1)


@given(cents)
def test_any_amount_of_cents_round_trips_through_its_text(n):
    amount = Decimal(n).scaleb(-2)
    assert money(str(amount)) == amount
    assert money(amount) == amount


@given(cents, st.integers(1, 9))
def test_a_third_decimal_place_is_always_refused(n, extra):
    with pytest.raises(MoneyError, match="more than 2 decimal places"):
        money(Decimal(n * 10 + extra).scaleb(-3))
