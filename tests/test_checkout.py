"""Checkout as in the book: a handler on BasketCheckedOut authorises the customer,
confirms the payment, schedules the shopping and creates the order, all or nothing."""

from __future__ import annotations

import uuid

import pytest

from mallbots.adapters import ORDERS_OF_BASKETS, order_id_for_basket
from mallbots.baskets import BasketStatus, CheckoutBasket, GetBasket
from mallbots.customers import DisableCustomer, EnableCustomer, RegisterCustomer
from mallbots.customers.errors import CustomerNotAuthorizedError
from mallbots.depot import GetShoppingList
from mallbots.depot.errors import UnknownStoreError
from mallbots.notifications import GetNotifications
from mallbots.ordering import GetOrder, OrderStatus, ReadyOrder
from mallbots.payments import (
    AuthorizePayment,
    ConfirmPayment,
    GetOrderInvoices,
    GetPayment,
    PayInvoice,
    PaymentStatus,
)
from mallbots.payments.errors import PaymentCannotBeConfirmedError, PaymentNotFoundError
from mallbots.stores import CreateStore, RemoveProduct
from tests.shop_support import assert_refused


def test_a_checkout_creates_the_order_of_the_basket(shop, world):
    order_id = shop.execute(CheckoutBasket(world.basket, world.payment))
    assert order_id == order_id_for_basket(world.basket)
    assert order_id == str(uuid.uuid5(ORDERS_OF_BASKETS, world.basket))
    order = shop.execute(GetOrder(order_id))
    assert (order.status, order.customer_id, order.payment_id) == (
        OrderStatus.PENDING,
        world.customer,
        world.payment,
    )
    assert [(i.product_id, i.quantity) for i in order.items] == [(world.widget, 2)]
    assert shop.execute(GetBasket(world.basket)).status is BasketStatus.CHECKED_OUT
    assert shop.execute(GetPayment(world.payment)).status is PaymentStatus.CONFIRMED
    assert shop.execute(GetShoppingList(order.shopping_id)).order_id == order_id
    assert [n.kind for n in shop.execute(GetNotifications(order_id))] == ["order_created"]
    names = shop.log_frame()["event_name"].tolist()[-2:]
    assert names == ["baskets.BasketCheckedOut", "ordering.OrderCreated"]


def test_paying_the_invoice_of_a_ready_order_completes_it(shop, world):
    order_id = shop.execute(CheckoutBasket(world.basket, world.payment))
    shop.execute(ReadyOrder(order_id))
    (invoice,) = shop.execute(GetOrderInvoices(order_id))
    shop.execute(PayInvoice(invoice.id))
    order = shop.execute(GetOrder(order_id))
    assert (order.status, order.invoice_id) == (OrderStatus.COMPLETED, invoice.id)
    kinds = [n.kind for n in shop.execute(GetNotifications(order_id))]
    assert kinds == ["order_created", "order_ready"]


def disabled_customer(shop, world):
    shop.execute(DisableCustomer(world.customer))
    return (
        world.payment,
        CustomerNotAuthorizedError,
        (f"customer is not authorized: {world.customer!r} is disabled"),
    )


def unknown_payment(shop, world):
    return "no such payment", PaymentNotFoundError, "payment 'no such payment' not found"


def payment_too_small(shop, world):
    shop.execute(AuthorizePayment(world.customer, "19.97", payment_id="small"))
    return (
        "small",
        PaymentCannotBeConfirmedError,
        ("payment cannot be confirmed: it authorises 19.97, the order costs 19.98"),
    )


def another_customers_payment(shop, world):
    bob = shop.execute(RegisterCustomer("Bob", "555-0101"))
    shop.execute(AuthorizePayment(bob, "99", payment_id="bobs"))
    return (
        "bobs",
        PaymentCannotBeConfirmedError,
        ("payment cannot be confirmed: it belongs to another customer"),
    )


def used_payment(shop, world):
    shop.execute(ConfirmPayment(world.payment, world.customer, "1"))
    return (
        world.payment,
        PaymentCannotBeConfirmedError,
        ("payment cannot be confirmed: it was already used"),
    )


@pytest.mark.parametrize(
    "refusal",
    [
        disabled_customer,
        unknown_payment,
        payment_too_small,
        another_customers_payment,
        used_payment,
    ],
)
def test_a_refused_order_rolls_the_whole_checkout_back(shop, world, refusal):
    payment, error, text = refusal(shop, world)
    assert_refused(shop, CheckoutBasket(world.basket, payment), error, text)
    assert shop.execute(GetBasket(world.basket)).status is BasketStatus.OPEN
    # the shop carries on: the same basket checks out once the cause is gone
    if refusal is disabled_customer:
        shop.execute(EnableCustomer(world.customer))
    good = shop.execute(AuthorizePayment(world.customer, "19.98", payment_id="good"))
    order_id = shop.execute(CheckoutBasket(world.basket, good))
    assert shop.execute(GetOrder(order_id)).payment_id == "good"
    shop.execute(CreateStore("After", "Level 9", store_id="after"))
    assert "after" in set(shop.read_model("stores.stores")["id"])


def test_a_checkout_whose_store_left_the_mall_is_refused_by_the_depot(shop, world):
    shop.execute(RemoveProduct(world.widget))  # the basket still holds its line
    shop.database.execute("DELETE FROM stores.stores")
    assert_refused(
        shop,
        CheckoutBasket(world.basket, world.payment),
        UnknownStoreError,
        f"store {world.store!r} not found",
    )
