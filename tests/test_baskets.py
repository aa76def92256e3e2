"""The baskets module: one test per rule, quantities, and a property over add and remove."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mallbots import MallBots
from mallbots.baskets import (
    AddItem,
    BasketStatus,
    CancelBasket,
    CheckoutBasket,
    GetBasket,
    Item,
    RemoveItem,
    StartBasket,
)
from mallbots.baskets.errors import (
    BasketAlreadyExistsError,
    BasketCannotBeCancelledError,
    BasketCannotBeModifiedError,
    BasketHasNoItemsError,
    BasketIdIsBlankError,
    BasketNotFoundError,
    CustomerIdIsBlankError,
    InvalidQuantityError,
    ItemNotInBasketError,
    NotEnoughInBasketError,
    PaymentIdIsBlankError,
    QuantityCannotBeNegativeError,
    QuantityCannotBeZeroError,
    UnknownProductError,
    UnknownStoreError,
)
from mallbots.errors import DomainError
from mallbots.stores import AddProduct, IncreaseProductPrice, RemoveProduct
from tests.shop_support import assert_refused, build_world


def basket(shop, basket_id):
    return shop.execute(GetBasket(basket_id))


def test_a_started_basket_is_open_and_empty(shop, world):
    basket_id = shop.execute(StartBasket(world.customer, basket_id="b1"))
    started = basket(shop, basket_id)
    assert (started.status, started.customer_id, started.items) == (
        BasketStatus.OPEN,
        world.customer,
        {},
    )


@pytest.mark.parametrize(
    ("message", "error", "text"),
    [
        (StartBasket(""), CustomerIdIsBlankError, "the customer id cannot be blank"),
        (StartBasket("c", basket_id=" "), BasketIdIsBlankError, "the basket id cannot be blank"),
    ],
)
def test_a_basket_needs_an_id_and_a_customer(shop, message, error, text):
    assert_refused(shop, message, error, text)


def test_a_basket_id_is_taken_once(shop, world):
    assert_refused(
        shop,
        StartBasket(world.customer, basket_id=world.basket),
        BasketAlreadyExistsError,
        f"basket {world.basket!r} already exists",
    )


def test_an_item_is_added_with_its_store_and_price_at_the_time(shop, world):
    shop.execute(AddItem(world.basket, world.gadget, 3))
    shop.execute(IncreaseProductPrice(world.widget, "11.00"))
    shop.execute(AddItem(world.basket, world.widget, 1))  # adds to the line: keeps its price
    items = basket(shop, world.basket).items
    assert items[world.widget] == Item(
        world.store, world.widget, "Waldorf Widgets", "Widget", Decimal("9.99"), 3
    )
    assert items[world.gadget].quantity == 3
    assert basket(shop, world.basket).total == Decimal("37.47")


def test_an_unknown_product_is_refused_where_the_book_does_nothing(shop, world):
    assert_refused(
        shop,
        AddItem(world.basket, "nothing", 1),
        UnknownProductError,
        "product 'nothing' not found",
    )


def test_a_removed_product_cannot_be_added(shop, world):
    shop.execute(RemoveProduct(world.gadget))
    assert_refused(
        shop,
        AddItem(world.basket, world.gadget, 1),
        UnknownProductError,
        f"product {world.gadget!r} not found",
    )


def test_a_product_whose_store_is_unknown_is_refused(shop, world):
    # The catalog is a read model: a row can name a store the mall does not know.
    shop.database.execute("DELETE FROM stores.stores WHERE id = $1", [world.store])
    assert_refused(
        shop,
        AddItem(world.basket, world.widget, 1),
        UnknownStoreError,
        f"store {world.store!r} not found",
    )


@pytest.mark.parametrize("change", [AddItem, RemoveItem])
@pytest.mark.parametrize(
    ("quantity", "error", "text"),
    [
        (-1, QuantityCannotBeNegativeError, "the item quantity cannot be negative"),
        (0, QuantityCannotBeZeroError, "the item quantity cannot be zero"),
        (1.0, InvalidQuantityError, "invalid item quantity: expected a whole number, not float"),
        (True, InvalidQuantityError, "invalid item quantity: expected a whole number, not bool"),
        (10**6 + 1, InvalidQuantityError, "invalid item quantity: a line holds at most 1,000,000"),
    ],
)
def test_a_quantity_is_a_whole_number_of_at_least_one(shop, world, change, quantity, error, text):
    assert_refused(shop, change(world.basket, world.widget, quantity), error, text)


def test_removing_reduces_the_line_and_drops_it_only_at_zero(shop, world):
    shop.execute(AddItem(world.basket, world.widget, 1))  # 3 widgets
    shop.execute(RemoveItem(world.basket, world.widget, 2))
    assert basket(shop, world.basket).items[world.widget].quantity == 1  # the book drops it here
    shop.execute(RemoveItem(world.basket, world.widget, 1))
    assert basket(shop, world.basket).items == {}


def test_removing_more_than_the_basket_holds_is_refused(shop, world):
    assert_refused(
        shop,
        RemoveItem(world.basket, world.widget, 3),
        NotEnoughInBasketError,
        "cannot remove more than the basket holds: it holds 2 of 'Widget'",
    )


def test_removing_a_product_not_in_the_basket_is_refused(shop, world):
    assert_refused(
        shop,
        RemoveItem(world.basket, world.gadget, 1),
        ItemNotInBasketError,
        f"the product is not in the basket: {world.gadget!r}",
    )


def test_a_product_removed_from_the_catalog_can_still_leave_a_basket(shop, world):
    shop.execute(RemoveProduct(world.widget))
    shop.execute(RemoveItem(world.basket, world.widget, 2))
    assert basket(shop, world.basket).items == {}


def test_a_cancelled_basket_is_emptied_and_refuses_changes(shop, world):
    shop.execute(CancelBasket(world.basket))
    cancelled = basket(shop, world.basket)
    assert (cancelled.status, cancelled.items) == (BasketStatus.CANCELED, {})
    text = "the basket cannot be modified: it is canceled"
    for message in [
        AddItem(world.basket, world.widget, 1),
        RemoveItem(world.basket, world.widget, 1),
        CheckoutBasket(world.basket, world.payment),
    ]:
        assert_refused(shop, message, BasketCannotBeModifiedError, text)
    assert_refused(
        shop,
        CancelBasket(world.basket),
        BasketCannotBeCancelledError,
        "the basket cannot be cancelled: it is canceled",
    )


def test_checking_out_an_empty_basket_is_refused(shop, world):
    empty = shop.execute(StartBasket(world.customer))
    assert_refused(
        shop, CheckoutBasket(empty, world.payment), BasketHasNoItemsError, "the basket has no items"
    )


def test_checking_out_without_a_payment_id_is_refused(shop, world):
    assert_refused(
        shop,
        CheckoutBasket(world.basket, ""),
        PaymentIdIsBlankError,
        "the payment id cannot be blank",
    )


def test_a_second_checkout_is_refused(shop, world):
    shop.execute(CheckoutBasket(world.basket, world.payment))
    assert_refused(
        shop,
        CheckoutBasket(world.basket, world.payment),
        BasketCannotBeModifiedError,
        "the basket cannot be modified: it is checked_out",
    )
    assert_refused(
        shop,
        CancelBasket(world.basket),
        BasketCannotBeCancelledError,
        "the basket cannot be cancelled: it is checked_out",
    )


@pytest.mark.parametrize(
    "message",
    [
        AddItem("nothing", "p"),
        RemoveItem("nothing", "p"),
        CancelBasket("nothing"),
        CheckoutBasket("nothing", "pay"),
        GetBasket("nothing"),
    ],
)
def test_commands_on_an_unknown_basket_are_refused(shop, message):
    assert_refused(shop, message, BasketNotFoundError, "basket 'nothing' not found")


# --- a property: any sequence of adds and removes --------------------------------------------

changes = st.lists(
    st.tuples(st.sampled_from(["add", "remove"]), st.integers(0, 2), st.integers(-1, 4)),
    max_size=25,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=changes)
def test_property_lines_hold_what_was_added_minus_removed_and_reload_the_same(script):
    with MallBots.in_memory(seed=1, snapshot_every=4) as shop:
        world = build_world(shop)
        products = [
            world.widget,
            world.gadget,
            shop.execute(AddProduct(world.store, "Gizmo", "1.25")),
        ]
        expected = {world.widget: 2}
        for action, which, quantity in script:
            product = products[which]
            message = (AddItem if action == "add" else RemoveItem)(world.basket, product, quantity)
            held = expected.get(product, 0)
            try:
                shop.execute(message)
            except DomainError:
                refused = True
            else:
                refused = False
                expected[product] = held + quantity if action == "add" else held - quantity
                if expected[product] == 0:
                    del expected[product]
            allowed = quantity > 0 and (action == "add" or quantity <= held)
            assert refused is not allowed
        live = basket(shop, world.basket)
        assert {p: item.quantity for p, item in live.items.items()} == expected
        assert all(item.quantity > 0 for item in live.items.values())
        shop.database.execute("DELETE FROM baskets.snapshots")
        assert basket(shop, world.basket).state() == live.state()  # from events alone
