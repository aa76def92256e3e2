"""Customers, payments, depot and notifications: plain tables, with their rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mallbots.baskets import StartBasket
from mallbots.baskets.errors import UnknownCustomerError as BasketsUnknownCustomerError
from mallbots.customers import (
    AuthorizeCustomer,
    Customer,
    DisableCustomer,
    EnableCustomer,
    GetCustomer,
    RegisterCustomer,
)
from mallbots.customers.errors import (
    CustomerAlreadyDisabledError,
    CustomerAlreadyEnabledError,
    CustomerAlreadyExistsError,
    CustomerNameIsBlankError,
    CustomerNotAuthorizedError,
    CustomerNotFoundError,
    SmsNumberIsBlankError,
)
from mallbots.depot import (
    AssignShoppingList,
    CancelShoppingList,
    CompleteShoppingList,
    CreateShoppingList,
    GetShoppingList,
    ShoppingItem,
    ShoppingListStatus,
)
from mallbots.depot.errors import (
    BotIdIsBlankError,
    ShoppingCannotBeCanceledError,
    ShoppingListCannotBeAssignedError,
    ShoppingListCannotBeCompletedError,
    ShoppingListHasNoItemsError,
    ShoppingListNotFoundError,
    UnknownStoreError,
)
from mallbots.notifications import NotifyOrderReady
from mallbots.notifications.errors import UnknownCustomerError
from mallbots.payments import (
    AdjustInvoice,
    AuthorizePayment,
    CancelInvoice,
    ConfirmPayment,
    CreateInvoice,
    GetInvoice,
    GetPayment,
    InvoiceStatus,
    PayInvoice,
    PaymentStatus,
)
from mallbots.payments.errors import (
    CustomerIdIsBlankError,
    InvoiceCannotBeAdjustedError,
    InvoiceCannotBeCanceledError,
    InvoiceCannotBePaidError,
    InvoiceNotFoundError,
    PaymentAlreadyExistsError,
    PaymentAmountIsNegativeError,
    PaymentCannotBeConfirmedError,
    PaymentNotFoundError,
)
from mallbots.payments.errors import UnknownCustomerError as PaymentsUnknownCustomerError
from tests.shop_support import assert_refused

# --- customers --------------------------------------------------------------------------------


def test_a_registered_customer_is_enabled(shop):
    customer_id = shop.execute(RegisterCustomer("Grace", "555-0199", customer_id="grace"))
    assert shop.execute(GetCustomer(customer_id)) == Customer("grace", "Grace", "555-0199", True)
    shop.execute(AuthorizeCustomer("grace"))


@pytest.mark.parametrize(
    ("name", "sms", "error", "text"),
    [
        ("", "555", CustomerNameIsBlankError, "the customer name cannot be blank"),
        ("Grace", " ", SmsNumberIsBlankError, "the SMS number cannot be blank"),
    ],
)
def test_a_customer_needs_a_name_and_an_sms_number(shop, name, sms, error, text):
    assert_refused(shop, RegisterCustomer(name, sms), error, text)


def test_a_customer_id_is_taken_once(shop, world):
    message = RegisterCustomer("Again", "555", customer_id=world.customer)
    text = f"customer {world.customer!r} already exists"
    assert_refused(shop, message, CustomerAlreadyExistsError, text)


def test_a_disabled_customer_is_not_authorised_until_enabled_again(shop, world):
    assert_refused(
        shop,
        EnableCustomer(world.customer),
        CustomerAlreadyEnabledError,
        "the customer is already enabled",
    )
    shop.execute(DisableCustomer(world.customer))
    assert_refused(
        shop,
        DisableCustomer(world.customer),
        CustomerAlreadyDisabledError,
        "the customer is already disabled",
    )
    assert_refused(
        shop,
        AuthorizeCustomer(world.customer),
        CustomerNotAuthorizedError,
        f"customer is not authorized: {world.customer!r} is disabled",
    )
    shop.execute(EnableCustomer(world.customer))
    shop.execute(AuthorizeCustomer(world.customer))


@pytest.mark.parametrize(
    "message",
    [
        AuthorizeCustomer("nobody"),
        EnableCustomer("nobody"),
        DisableCustomer("nobody"),
        GetCustomer("nobody"),
    ],
)
def test_an_unknown_customer_is_refused(shop, message):
    assert_refused(shop, message, CustomerNotFoundError, "customer 'nobody' not found")


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (StartBasket("nobody"), BasketsUnknownCustomerError),
        (AuthorizePayment("nobody", "1.00"), PaymentsUnknownCustomerError),
    ],
)
def test_a_basket_or_a_payment_needs_a_known_customer(shop, message, error):
    """The book takes any customer id here; such a basket could never be checked out."""
    assert_refused(shop, message, error, "customer 'nobody' not found")


# --- payments ---------------------------------------------------------------------------------


def test_a_payment_is_authorised_then_confirmed_once(shop, world):
    payment_id = shop.execute(AuthorizePayment(world.customer, "20", payment_id="pay"))
    assert shop.execute(GetPayment(payment_id)).amount == Decimal("20.00")
    shop.execute(ConfirmPayment("pay", world.customer, Decimal("19.98")))
    assert shop.execute(GetPayment("pay")).status is PaymentStatus.CONFIRMED
    text = "payment cannot be confirmed: it was already used"
    assert_refused(
        shop, ConfirmPayment("pay", world.customer, "1"), PaymentCannotBeConfirmedError, text
    )


@pytest.mark.parametrize(
    ("customer", "amount", "error", "text"),
    [
        ("", "1", CustomerIdIsBlankError, "the customer id cannot be blank"),
        ("c", "-1", PaymentAmountIsNegativeError, "the payment amount cannot be negative"),
    ],
)
def test_a_payment_needs_a_customer_and_an_amount_that_is_not_negative(
    shop, customer, amount, error, text
):
    assert_refused(shop, AuthorizePayment(customer, amount), error, text)


def test_a_payment_id_is_taken_once(shop, world):
    message = AuthorizePayment(world.customer, "1", payment_id=world.payment)
    assert_refused(
        shop, message, PaymentAlreadyExistsError, f"payment {world.payment!r} already exists"
    )


@pytest.mark.parametrize(
    ("customer", "amount", "text"),
    [
        ("someone else", "1", "payment cannot be confirmed: it belongs to another customer"),
        (
            None,
            "100.01",
            "payment cannot be confirmed: it authorises 100.00, the order costs 100.01",
        ),
    ],
)
def test_a_payment_confirms_only_its_customer_and_only_up_to_its_amount(
    shop, world, customer, amount, text
):
    message = ConfirmPayment(world.payment, customer or world.customer, amount)
    assert_refused(shop, message, PaymentCannotBeConfirmedError, text)


def test_an_unknown_payment_is_refused(shop, world):
    for message in [
        ConfirmPayment("nope", world.customer, "1"),
        GetPayment("nope"),
        CreateInvoice("o", "nope", "1"),
    ]:
        assert_refused(shop, message, PaymentNotFoundError, "payment 'nope' not found")


def test_an_invoice_is_paid_or_cancelled_once_while_pending(shop, world):
    invoice_id = shop.execute(CreateInvoice("o1", world.payment, "5.00"))
    shop.execute(CancelInvoice(invoice_id))
    assert shop.execute(GetInvoice(invoice_id)).status is InvoiceStatus.CANCELED
    assert_refused(
        shop,
        PayInvoice(invoice_id),
        InvoiceCannotBePaidError,
        "invoice cannot be paid for: it is canceled",
    )
    assert_refused(
        shop,
        CancelInvoice(invoice_id),
        InvoiceCannotBeCanceledError,
        "invoice cannot be canceled: it is canceled",
    )


def test_an_invoice_is_adjusted_while_pending_to_an_amount_not_negative(shop, world):
    invoice_id = shop.execute(CreateInvoice("o1", world.payment, "5.00"))
    shop.execute(AdjustInvoice(invoice_id, "4.50"))
    shop.execute(AdjustInvoice(invoice_id, 6))
    assert shop.execute(GetInvoice(invoice_id)).amount == Decimal("6.00")
    assert_refused(
        shop,
        AdjustInvoice(invoice_id, "-0.01"),
        PaymentAmountIsNegativeError,
        "the payment amount cannot be negative",
    )
    shop.execute(CancelInvoice(invoice_id))
    assert_refused(
        shop,
        AdjustInvoice(invoice_id, "1.00"),
        InvoiceCannotBeAdjustedError,
        "invoice cannot be adjusted: it is canceled",
    )


@pytest.mark.parametrize(
    "message",
    [PayInvoice("nope"), CancelInvoice("nope"), GetInvoice("nope"), AdjustInvoice("nope", "1")],
)
def test_an_unknown_invoice_is_refused(shop, message):
    assert_refused(shop, message, InvoiceNotFoundError, "invoice 'nope' not found")


# --- depot ------------------------------------------------------------------------------------


def test_a_shopping_list_stops_at_each_store_once(shop, world):
    items = (
        ShoppingItem(world.store, world.widget, "Widget", 2),
        ShoppingItem(world.store, world.gadget, "Gadget", 1),
    )
    list_id = shop.execute(CreateShoppingList("o1", items))
    (stop,) = shop.execute(GetShoppingList(list_id)).stops
    assert (stop.store_name, stop.store_location) == ("Waldorf Widgets", "Level 1")
    assert [(i.product_name, i.quantity) for i in stop.items] == [("Widget", 2), ("Gadget", 1)]
    shop.execute(CancelShoppingList(list_id))
    assert_refused(
        shop,
        CancelShoppingList(list_id),
        ShoppingCannotBeCanceledError,
        "the shopping list cannot be canceled: it is canceled",
    )


def test_a_shopping_list_needs_items_at_known_stores(shop):
    assert_refused(
        shop,
        CreateShoppingList("o1", ()),
        ShoppingListHasNoItemsError,
        "the shopping list has no items",
    )
    item = ShoppingItem("nowhere", "p", "Thing", 1)
    assert_refused(
        shop, CreateShoppingList("o1", (item,)), UnknownStoreError, "store 'nowhere' not found"
    )


def test_a_shopping_list_is_assigned_while_available_and_completed_once_assigned(shop, world):
    items = (ShoppingItem(world.store, world.widget, "Widget", 1),)
    list_id = shop.execute(CreateShoppingList("o1", items))
    assert_refused(
        shop,
        CompleteShoppingList(list_id),
        ShoppingListCannotBeCompletedError,
        "the shopping list cannot be completed: it is available",
    )
    assert_refused(
        shop, AssignShoppingList(list_id, " "), BotIdIsBlankError, "the bot id cannot be blank"
    )
    shop.execute(AssignShoppingList(list_id, "bot-7"))
    assigned = shop.execute(GetShoppingList(list_id))
    assert (assigned.assigned_bot_id, assigned.status) == ("bot-7", ShoppingListStatus.ASSIGNED)
    assert_refused(
        shop,
        AssignShoppingList(list_id, "bot-8"),
        ShoppingListCannotBeAssignedError,
        "the shopping list cannot be assigned: it is assigned",
    )
    shop.execute(CancelShoppingList(list_id))  # an assigned list can still be cancelled
    assert_refused(
        shop,
        CompleteShoppingList(list_id),
        ShoppingListCannotBeCompletedError,
        "the shopping list cannot be completed: it is canceled",
    )


@pytest.mark.parametrize(
    "message",
    [
        CancelShoppingList("nope"),
        GetShoppingList("nope"),
        AssignShoppingList("nope", "bot"),
        CompleteShoppingList("nope"),
    ],
)
def test_an_unknown_shopping_list_is_refused(shop, message):
    assert_refused(shop, message, ShoppingListNotFoundError, "shopping list 'nope' not found")


# --- notifications ----------------------------------------------------------------------------


def test_a_notification_for_an_unknown_customer_is_refused(shop):
    assert_refused(
        shop, NotifyOrderReady("o1", "nobody"), UnknownCustomerError, "customer 'nobody' not found"
    )
