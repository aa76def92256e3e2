"""Hostile input at the shop's front door: every command either refuses it with a
DomainError and writes nothing, or stores it and reads it back exactly. Nothing else
escapes: no raw DuckDB error, no crash, no SQL built from what a user typed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mallbots import MallBots
from mallbots.baskets.application import AddItem, GetBasket, RemoveItem, StartBasket
from mallbots.baskets.basket import MAX_QUANTITY
from mallbots.customers.application import RegisterCustomer
from mallbots.errors import DomainError
from mallbots.ordering.application import GetOrder
from mallbots.stores.application import (
    AddProduct,
    CreateStore,
    GetProduct,
    GetStore,
    IncreaseProductPrice,
    RebrandStore,
)
from tests.reliability.figures import count

SQL = [
    "'; DROP TABLE stores.events; --",
    "Robert'); DELETE FROM stores.stores WHERE ('1'='1",
    '" OR 1=1 --',
    "$1",
    "\\x00",
]
texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(SQL),
    st.just("x" * 200_000),  # long enough to matter, short enough to report
    st.just("\ud800 lone surrogate"),
    st.just("\x00 nul inside"),
    st.just("   "),
    st.just("名前 ✓ émoji 🛒"),
)
prices = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["NaN", "Infinity", "-0.01", "1e400", "9.999", " 5 ", "", "1,50"]),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.none(),
    st.booleans(),
)
quantities = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.integers(min_value=-2, max_value=MAX_QUANTITY + 2),  # around the edges that matter
    st.floats(allow_nan=True),
    st.booleans(),
    st.sampled_from(["1", None, Decimal("1")]),
)


@pytest.fixture(scope="module")
def shop():
    shop = MallBots.in_memory(seed=7)
    store = shop.execute(CreateStore("Bits & Bobs", "Level 1"))
    product = shop.execute(AddProduct(store, "Widget", "9.99"))
    customer = shop.execute(RegisterCustomer("Ada", "555-0100"))
    basket = shop.execute(StartBasket(customer))
    shop.ids_for_tests = {"store": store, "product": product, "basket": basket}
    yield shop
    shop.close()


TRIED = {"inputs": 0, "refused": 0, "stored": 0}


def attempt(shop: MallBots, command) -> object | None:
    """Run a command; a refusal must be a DomainError and must write nothing."""
    before = shop.log.count(), shop.read_model("stores.stores"), shop.read_model("stores.products")
    TRIED["inputs"] += 1
    try:
        result = shop.execute(command)
    except DomainError:
        TRIED["refused"] += 1
        after = (
            shop.log.count(),
            shop.read_model("stores.stores"),
            shop.read_model("stores.products"),
        )
        assert after[0] == before[0]
        assert after[1].equals(before[1]) and after[2].equals(before[2])
        return None
    TRIED["stored"] += 1
    return result


SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@SETTINGS
@given(name=texts, location=texts)
def test_store_names_are_refused_or_read_back_exactly(shop, name, location):
    store = attempt(shop, CreateStore(name, location))
    if store is not None:
        found = shop.execute(GetStore(store))
        assert (found.name, found.location) == (name, location)
        attempt(shop, RebrandStore(store, name))  # the same name again: refused or kept


@SETTINGS
@given(name=texts, price=prices, sku=texts)
def test_products_refuse_bad_money_and_keep_good_money_exact(shop, name, price, sku):
    product = attempt(shop, AddProduct(shop.ids_for_tests["store"], name, price, sku=sku))
    if product is not None:
        found = shop.execute(GetProduct(product))
        assert found.name == name and found.sku == sku
        assert found.price == Decimal(str(price).strip()).quantize(Decimal("0.01"))
        attempt(shop, IncreaseProductPrice(product, price))


@SETTINGS
@given(quantity=quantities)
def test_quantities_are_whole_and_positive(shop, quantity):
    """A whole number from 1 (not a bool, a float, a Decimal or text) is taken as it is,
    within what the line may hold; anything else is refused and changes nothing."""
    ids = shop.ids_for_tests
    whole = type(quantity) is int and quantity >= 1
    before = quantity_held(shop)
    attempt(shop, AddItem(ids["basket"], ids["product"], quantity))
    added = quantity_held(shop)
    fits = whole and before + quantity <= MAX_QUANTITY
    assert added == (before + quantity if fits else before)
    attempt(shop, RemoveItem(ids["basket"], ids["product"], quantity))
    taken = whole and quantity <= added
    assert quantity_held(shop) == (added - quantity if taken else added)


def quantity_held(shop: MallBots) -> int:
    """How many of the test product the test basket holds (0 once its line is gone)."""
    basket = shop.execute(GetBasket(shop.ids_for_tests["basket"]))
    item = basket.items.get(shop.ids_for_tests["product"])
    return item.quantity if item is not None else 0


@SETTINGS
@given(kind=st.sampled_from(["store", "product", "basket"]), other=texts)
def test_ids_of_another_aggregate_type_or_of_nothing_are_refused(shop, kind, other):
    ids = shop.ids_for_tests
    wrong = ids[kind]
    if kind != "product":
        assert attempt(shop, AddItem(ids["basket"], wrong, 1)) is None
    if kind != "store":
        assert attempt(shop, RebrandStore(wrong, "New name")) is None
    with pytest.raises(DomainError):
        shop.execute(GetOrder(wrong))
    assert attempt(shop, AddItem(ids["basket"], other, 1)) is None


def test_the_shop_still_works_after_all_that(shop):
    ids = shop.ids_for_tests
    assert shop.execute(GetProduct(ids["product"])).name == "Widget"
    count("domain inputs tried", TRIED["inputs"])
    count("domain inputs refused (DomainError, nothing written)", TRIED["refused"])
    count("domain inputs stored and read back exactly", TRIED["stored"])
