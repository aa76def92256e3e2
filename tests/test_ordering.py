"""The ordering module: the order's life, with the status rules the book left as TODOs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mallbots.baskets import CheckoutBasket
from mallbots.depot import (
    AssignShoppingList,
    CancelShoppingList,
    CompleteShoppingList,
    GetShoppingList,
    ShoppingListStatus,
)
from mallbots.depot.errors import ShoppingCannotBeCanceledError
from mallbots.notifications import GetNotifications
from mallbots.ordering import (
    CancelOrder,
    CompleteOrder,
    CreateOrder,
    GetOrder,
    OrderItem,
    OrderStatus,
    ReadyOrder,
)
from mallbots.ordering.errors import (
    CustomerIdIsBlankError,
    InvalidOrderItemError,
    InvoiceIdIsBlankError,
    InvoiceOfAnotherOrderError,
    OrderAlreadyCreatedError,
    OrderCannotBeCancelledError,
    OrderCannotBeCompletedError,
    OrderCannotBeReadiedError,
    OrderHasNoItemsError,
    OrderNotFoundError,
    PaymentIdIsBlankError,
    UnknownInvoiceError,
)
from mallbots.payments import (
    AuthorizePayment,
    GetInvoice,
    GetOrderInvoices,
    InvoiceStatus,
    PayInvoice,
)
from tests.shop_support import assert_refused


def place_order(shop, world) -> str:
    return shop.execute(CheckoutBasket(world.basket, world.payment))


def order(shop, order_id):
    return shop.execute(GetOrder(order_id))


def items(world, quantity=1, price="9.99"):
    return (OrderItem(world.widget, world.store, "Waldorf Widgets", "Widget", price, quantity),)


def test_an_order_is_created_pending_with_its_shopping_list_and_a_notification(shop, world):
    order_id = shop.execute(
        CreateOrder(world.customer, world.payment, items(world, 3), order_id="o1")
    )
    created = order(shop, order_id)
    assert (created.status, created.total) == (OrderStatus.PENDING, Decimal("29.97"))
    assert created.items[0].price == Decimal("9.99")  # the "9.99" given became exact money
    shopping = shop.execute(GetShoppingList(created.shopping_id))
    assert (shopping.order_id, shopping.status) == ("o1", ShoppingListStatus.AVAILABLE)
    assert [stop.store_location for stop in shopping.stops] == ["Level 1"]
    assert [n.kind for n in shop.execute(GetNotifications("o1"))] == ["order_created"]


def test_an_order_is_created_once(shop, world):
    order_id = place_order(shop, world)
    payment = shop.execute(AuthorizePayment(world.customer, "50"))
    assert_refused(
        shop,
        CreateOrder(world.customer, payment, items(world), order_id=order_id),
        OrderAlreadyCreatedError,
        "the order cannot be recreated",
    )


@pytest.mark.parametrize(
    ("customer", "payment", "lines", "error", "text"),
    [
        ("c", "p", (), OrderHasNoItemsError, "the order has no items"),
        ("", "p", None, CustomerIdIsBlankError, "the customer id cannot be blank"),
        ("c", " ", None, PaymentIdIsBlankError, "the payment id cannot be blank"),
        (
            "c",
            "p",
            ("widget",),
            InvalidOrderItemError,
            "invalid order item: expected an OrderItem, not str",
        ),
    ],
)
def test_an_order_needs_items_a_customer_and_a_payment(
    shop, world, customer, payment, lines, error, text
):
    lines = items(world) if lines is None else lines
    assert_refused(shop, CreateOrder(customer, payment, lines), error, text)


@pytest.mark.parametrize(
    ("quantity", "price", "text"),
    [
        (0, "1.00", "invalid order item: the quantity of 'Widget' is 0"),
        (1, "-1.00", "invalid order item: the price of 'Widget' is negative"),
    ],
)
def test_an_order_item_needs_a_quantity_and_a_price(shop, world, quantity, price, text):
    message = CreateOrder(world.customer, world.payment, items(world, quantity, price))
    assert_refused(shop, message, InvalidOrderItemError, text)


def test_an_order_is_readied_once_and_then_invoiced(shop, world):
    order_id = place_order(shop, world)
    shop.execute(ReadyOrder(order_id))
    assert order(shop, order_id).status is OrderStatus.READY
    (invoice,) = shop.execute(GetOrderInvoices(order_id))
    assert invoice.amount == Decimal("19.98")
    readied = shop.stream_frame("ordering.Order", order_id)["event_data"].iloc[-1]
    assert '"total":"19.98"' in readied
    assert_refused(
        shop,
        ReadyOrder(order_id),
        OrderCannotBeReadiedError,
        "the order cannot be readied: it is ready, not pending",
    )


def test_only_a_ready_order_is_completed(shop, world):
    order_id = place_order(shop, world)
    assert_refused(
        shop,
        CompleteOrder(order_id, "inv-1"),
        OrderCannotBeCompletedError,
        "the order cannot be completed: it is pending, not ready",
    )
    shop.execute(ReadyOrder(order_id))
    assert_refused(
        shop, CompleteOrder(order_id, ""), InvoiceIdIsBlankError, "the invoice id cannot be blank"
    )
    (invoice,) = shop.execute(GetOrderInvoices(order_id))
    shop.execute(CompleteOrder(order_id, invoice.id))
    completed = order(shop, order_id)
    assert (completed.status, completed.invoice_id) == (OrderStatus.COMPLETED, invoice.id)
    assert_refused(
        shop,
        CompleteOrder(order_id, invoice.id),
        OrderCannotBeCompletedError,
        "the order cannot be completed: it is completed, not ready",
    )


def test_an_order_is_completed_only_with_its_own_invoice(shop, world):
    """The book's "validate invoice exists" TODO: a made-up invoice, or another order's,
    would complete the order and leave its real invoice pending for ever."""
    order_id = place_order(shop, world)
    shop.execute(ReadyOrder(order_id))
    other_payment = shop.execute(AuthorizePayment(world.customer, "9.99"))
    other_id = shop.execute(
        CreateOrder(world.customer, other_payment, items(world), order_id="o-other")
    )
    shop.execute(ReadyOrder(other_id))
    (other_invoice,) = shop.execute(GetOrderInvoices(other_id))
    assert_refused(
        shop,
        CompleteOrder(order_id, "no-such-invoice"),
        UnknownInvoiceError,
        "invoice 'no-such-invoice' not found",
    )
    assert_refused(
        shop,
        CompleteOrder(order_id, other_invoice.id),
        InvoiceOfAnotherOrderError,
        f"the invoice bills another order: {other_invoice.id!r} bills order 'o-other'",
    )


def test_a_pending_order_is_cancelled_with_its_shopping_list(shop, world):
    order_id = place_order(shop, world)
    shop.execute(CancelOrder(order_id))
    cancelled = order(shop, order_id)
    assert cancelled.status is OrderStatus.CANCELLED
    shopping = shop.execute(GetShoppingList(cancelled.shopping_id))
    assert shopping.status is ShoppingListStatus.CANCELED
    kinds = [n.kind for n in shop.execute(GetNotifications(order_id))]
    assert kinds == ["order_created", "order_canceled"]
    assert_refused(
        shop,
        CancelOrder(order_id),
        OrderCannotBeCancelledError,
        "the order cannot be cancelled: it is cancelled, not pending",
    )


def test_a_ready_order_cannot_be_cancelled(shop, world):
    order_id = place_order(shop, world)
    shop.execute(ReadyOrder(order_id))
    assert_refused(
        shop,
        CancelOrder(order_id),
        OrderCannotBeCancelledError,
        "the order cannot be cancelled: it is ready, not pending",
    )


@pytest.mark.parametrize(
    "message",
    [
        CancelOrder("nothing"),
        ReadyOrder("nothing"),
        CompleteOrder("nothing", "i"),
        GetOrder("nothing"),
    ],
)
def test_commands_on_an_unknown_order_are_refused(shop, message):
    assert_refused(shop, message, OrderNotFoundError, "order 'nothing' not found")


# --- the book's whole flow: the depot readies the order, paying its invoice completes it ---


def test_a_completed_shopping_list_readies_its_order_and_paying_the_invoice_completes_it(
    shop, world
):
    order_id = place_order(shop, world)
    list_id = order(shop, order_id).shopping_id
    shop.execute(AssignShoppingList(list_id, "bot-1"))
    assert order(shop, order_id).status is OrderStatus.PENDING
    shop.execute(CompleteShoppingList(list_id))
    assert shop.execute(GetShoppingList(list_id)).status is ShoppingListStatus.COMPLETED
    assert order(shop, order_id).status is OrderStatus.READY
    (invoice,) = shop.execute(GetOrderInvoices(order_id))
    assert (invoice.amount, invoice.status) == (Decimal("19.98"), InvoiceStatus.PENDING)
    kinds = [n.kind for n in shop.execute(GetNotifications(order_id))]
    assert kinds == ["order_created", "order_ready"]
    shop.execute(PayInvoice(invoice.id))
    assert shop.execute(GetInvoice(invoice.id)).status is InvoiceStatus.PAID
    completed = order(shop, order_id)
    assert (completed.status, completed.invoice_id) == (OrderStatus.COMPLETED, invoice.id)


def test_completing_a_list_whose_order_cannot_be_readied_changes_nothing(shop, world):
    """One unit of work: the list stays assigned when the order refuses to be ready."""
    order_id = place_order(shop, world)
    list_id = order(shop, order_id).shopping_id
    shop.execute(AssignShoppingList(list_id, "bot-1"))
    shop.execute(ReadyOrder(order_id))  # readied directly, as the book's gRPC API allows
    assert_refused(
        shop,
        CompleteShoppingList(list_id),
        OrderCannotBeReadiedError,
        "the order cannot be readied: it is ready, not pending",
    )


def test_cancelling_an_order_cancels_its_assigned_list_and_a_completed_list_stays(shop, world):
    order_id = place_order(shop, world)
    list_id = order(shop, order_id).shopping_id
    shop.execute(AssignShoppingList(list_id, "bot-1"))
    shop.execute(CancelOrder(order_id))
    assert shop.execute(GetShoppingList(list_id)).status is ShoppingListStatus.CANCELED

    shop.execute(AuthorizePayment(world.customer, "9.99", payment_id="p2"))
    second = shop.execute(CreateOrder(world.customer, "p2", items(world), order_id="o2"))
    second_list = order(shop, second).shopping_id
    shop.execute(AssignShoppingList(second_list, "bot-2"))
    shop.execute(CompleteShoppingList(second_list))
    assert_refused(
        shop,
        CancelShoppingList(second_list),
        ShoppingCannotBeCanceledError,
        "the shopping list cannot be canceled: it is completed",
    )
