"""The adapters between modules: the book's gRPC client repositories, in process.

Each module states what it needs from the others as a port (``baskets/ports.py``,
``ordering/ports.py`` ...). An adapter here implements such a port by sending the other
module's own command to its application service, translating one module's types into
the other's on the way, as the book's ``internal/grpc/*_repository.go`` files do over
the wire. The stores, customers and depot services answer some ports directly (their
``find_*`` methods), so they need no adapter.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from mallbots.baskets.events import Item
from mallbots.customers.application import AuthorizeCustomer, CustomersApplication
from mallbots.depot.application import (
    CancelShoppingList,
    CreateShoppingList,
    DepotApplication,
    ShoppingItem,
)
from mallbots.es.ids import uuid5
from mallbots.notifications.application import (
    NotificationsApplication,
    NotifyOrderCanceled,
    NotifyOrderCreated,
    NotifyOrderReady,
)
from mallbots.ordering.application import (
    CompleteOrder,
    CreateOrder,
    OrderingApplication,
    ReadyOrder,
)
from mallbots.ordering.events import OrderItem
from mallbots.payments.application import ConfirmPayment, CreateInvoice, PaymentsApplication

ORDERS_OF_BASKETS = uuid.UUID("6f1c58a2-4c1e-4b8e-9a57-0d5b1f3e2a10")
"""The namespace of order ids derived from basket ids."""

SHOPPING_LISTS_OF_ORDERS = uuid.UUID("2b8e4c1d-7a3f-4e56-9b0c-5d1e8f2a6c34")
"""The namespace of shopping list ids derived from order ids."""

INVOICES_OF_ORDERS = uuid.UUID("9c4d2e7f-1b6a-4f83-8e5d-3a7c0b9f1e62")
"""The namespace of invoice ids derived from order ids."""


def order_id_for_basket(basket_id: str) -> str:
    """The id of the order a basket's checkout creates: a UUID derived from the basket id.

    The book's ordering server draws a random UUID. Deriving it instead makes a seeded
    shop reproducible without drawing from the id factory, lets the checkout return the
    order id, and means a basket can never make two orders: a second ``OrderCreated``
    for the same id is refused by the order itself.
    """
    return uuid5(ORDERS_OF_BASKETS, basket_id)


def shopping_list_id_for_order(order_id: str) -> str:
    """The id of an order's shopping list, derived from the order id.

    Like the order id, it is derived rather than drawn: an order has one list, and its
    ``OrderCreated`` payload is the same however the order was placed (one command at a
    time or in a simulator's bulk load), because no other draw from the id factory can
    shift it.
    """
    return uuid5(SHOPPING_LISTS_OF_ORDERS, order_id)


def invoice_id_for_order(order_id: str) -> str:
    """The id of the invoice a readied order gets, derived from the order id (see above)."""
    return uuid5(INVOICES_OF_ORDERS, order_id)


def order_items(items: Sequence[Item]) -> tuple[OrderItem, ...]:
    """A checked-out basket's lines as the ordering module's items."""
    return tuple(
        OrderItem(
            product_id=item.product_id,
            store_id=item.store_id,
            store_name=item.store_name,
            product_name=item.product_name,
            price=item.product_price,
            quantity=item.quantity,
        )
        for item in items
    )


class BasketOrders:
    """The baskets module's ``Orders`` port, over the ordering module."""

    def __init__(self, ordering: OrderingApplication) -> None:
        self.ordering = ordering

    def order_id_for(self, basket_id: str) -> str:
        return order_id_for_basket(basket_id)

    def place_order(
        self, basket_id: str, customer_id: str, payment_id: str, items: Sequence[Item]
    ) -> str:
        return self.ordering.create_order(
            CreateOrder(
                customer_id=customer_id,
                payment_id=payment_id,
                items=order_items(items),
                order_id=order_id_for_basket(basket_id),
            )
        )


class OrderCustomers:
    """The ordering module's ``Customers`` port, over the customers module."""

    def __init__(self, customers: CustomersApplication) -> None:
        self.customers = customers

    def authorize_customer(self, customer_id: str) -> None:
        self.customers.authorize_customer(AuthorizeCustomer(customer_id))


class OrderPayments:
    """The ordering module's ``Payments`` and ``Invoices`` ports, over payments."""

    def __init__(self, payments: PaymentsApplication) -> None:
        self.payments = payments

    def confirm_payment(self, payment_id: str, customer_id: str, amount: Decimal) -> None:
        self.payments.confirm_payment(ConfirmPayment(payment_id, customer_id, amount))

    def create_invoice(self, order_id: str, payment_id: str, amount: Decimal) -> str:
        return self.payments.create_invoice(
            CreateInvoice(order_id, payment_id, amount, invoice_id_for_order(order_id))
        )

    def order_of_invoice(self, invoice_id: str) -> str | None:
        invoice = self.payments.find_invoice(invoice_id)
        return None if invoice is None else invoice.order_id


class OrderShopping:
    """The ordering module's ``Shopping`` port, over the depot."""

    def __init__(self, depot: DepotApplication) -> None:
        self.depot = depot

    def create_shopping_list(self, order_id: str, items: Sequence[OrderItem]) -> str:
        return self.depot.create_shopping_list(
            CreateShoppingList(
                order_id,
                tuple(
                    ShoppingItem(item.store_id, item.product_id, item.product_name, item.quantity)
                    for item in items
                ),
                shopping_list_id=shopping_list_id_for_order(order_id),
            )
        )

    def cancel_shopping_list(self, shopping_id: str) -> None:
        self.depot.cancel_shopping_list(CancelShoppingList(shopping_id))


class OrderNotifications:
    """The ordering module's ``Notifications`` port, over notifications."""

    def __init__(self, notifications: NotificationsApplication) -> None:
        self.notifications = notifications

    def notify_order_created(self, order_id: str, customer_id: str) -> None:
        self.notifications.notify_order_created(NotifyOrderCreated(order_id, customer_id))

    def notify_order_ready(self, order_id: str, customer_id: str) -> None:
        self.notifications.notify_order_ready(NotifyOrderReady(order_id, customer_id))

    def notify_order_canceled(self, order_id: str, customer_id: str) -> None:
        self.notifications.notify_order_canceled(NotifyOrderCanceled(order_id, customer_id))


class InvoiceOrders:
    """The payments module's ``Orders`` port, over the ordering module."""

    def __init__(self, ordering: OrderingApplication) -> None:
        self.ordering = ordering

    def complete_order(self, order_id: str, invoice_id: str) -> None:
        self.ordering.complete_order(CompleteOrder(order_id, invoice_id))


class ShoppingOrders:
    """The depot's ``Orders`` port, over the ordering module."""

    def __init__(self, ordering: OrderingApplication) -> None:
        self.ordering = ordering

    def ready_order(self, order_id: str) -> None:
        self.ordering.ready_order(ReadyOrder(order_id))
