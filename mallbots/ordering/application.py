"""The ordering module's application service: create, cancel, ready and complete orders.

Creating an order follows the book's ``CreateOrder``: authorise the customer, confirm the
payment, schedule the shopping, then record the order. Unlike the book, the order's own
rules are checked first, and all of it is one unit of work, so a refusal at any step
leaves no payment confirmed and no shopping list behind. Completing an order names its
invoice, which must exist and bill this order (the book's "validate invoice exists" TODO).
"""

from __future__ import annotations

from dataclasses import dataclass

from mallbots.es import AggregateRepository, Database
from mallbots.es.ids import IdFactory
from mallbots.ordering.errors import (
    InvoiceOfAnotherOrderError,
    OrderIdIsBlankError,
    OrderNotFoundError,
    UnknownInvoiceError,
)
from mallbots.ordering.events import OrderItem
from mallbots.ordering.order import Order
from mallbots.ordering.ports import Customers, Invoices, Payments, Shopping
from mallbots.service import ApplicationService, command, load, query


@dataclass(frozen=True)
class CreateOrder:
    customer_id: str
    payment_id: str
    items: tuple[OrderItem, ...]
    order_id: str | None = None
    """Leave out to have the shop make one; a basket's checkout derives it from the basket."""


@dataclass(frozen=True)
class CancelOrder:
    order_id: str


@dataclass(frozen=True)
class ReadyOrder:
    order_id: str


@dataclass(frozen=True)
class CompleteOrder:
    order_id: str
    invoice_id: str


@dataclass(frozen=True)
class GetOrder:
    order_id: str


class OrderingApplication(ApplicationService):
    """Orders: every command loads the order, asks it, and saves what it recorded."""

    def __init__(
        self,
        database: Database,
        orders: AggregateRepository[Order],
        customers: Customers,
        payments: Payments,
        shopping: Shopping,
        invoices: Invoices,
        ids: IdFactory,
    ) -> None:
        super().__init__(database, ids)
        self.orders = orders
        self.customers = customers
        self.payments = payments
        self.shopping = shopping
        self.invoices = invoices

    @command(CreateOrder)
    def create_order(self, cmd: CreateOrder) -> str:
        """Authorise, confirm the payment, schedule shopping, create; returns the order id."""
        order_id = self.new_id(cmd.order_id, "order id", OrderIdIsBlankError)
        order = self.orders.load_or_new(order_id)
        items = order.check_creatable(cmd.customer_id, cmd.payment_id, cmd.items)
        self.customers.authorize_customer(cmd.customer_id)
        self.payments.confirm_payment(cmd.payment_id, cmd.customer_id, Order.total_of(items))
        shopping_id = self.shopping.create_shopping_list(order_id, items)
        order.create(cmd.customer_id, cmd.payment_id, shopping_id, items)
        self.orders.save(order)
        return order.id

    @command(CancelOrder)
    def cancel_order(self, cmd: CancelOrder) -> None:
        """Cancel a pending order and its shopping list."""
        order = load(self.orders, cmd.order_id, OrderNotFoundError)
        order.cancel()
        self.shopping.cancel_shopping_list(order.shopping_id)
        self.orders.save(order)

    @command(ReadyOrder)
    def ready_order(self, cmd: ReadyOrder) -> None:
        order = load(self.orders, cmd.order_id, OrderNotFoundError)
        order.ready()
        self.orders.save(order)

    @command(CompleteOrder)
    def complete_order(self, cmd: CompleteOrder) -> None:
        """Complete a ready order with its invoice (paying the invoice does this)."""
        order = load(self.orders, cmd.order_id, OrderNotFoundError)
        order.complete(cmd.invoice_id)
        billed = self.invoices.order_of_invoice(cmd.invoice_id)
        if billed is None:
            raise UnknownInvoiceError(cmd.invoice_id)
        if billed != order.id:
            raise InvoiceOfAnotherOrderError(f"{cmd.invoice_id!r} bills order {billed!r}")
        self.orders.save(order)

    @query(GetOrder)
    def get_order(self, q: GetOrder) -> Order:
        return load(self.orders, q.order_id, OrderNotFoundError)
