"""The Order aggregate: created from a checked-out basket, then readied and completed.

The book leaves the status checks of ``Ready`` and ``Complete`` as TODOs, so an order
can be readied twice or completed while pending. Here the life is strict:
pending -> ready -> completed, and pending -> cancelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from mallbots.errors import DomainError, require_text
from mallbots.es import Aggregate, AggregateEvent
from mallbots.es.lifetimes import SHORT_LIVED, Lifetime
from mallbots.money import money, total
from mallbots.ordering.errors import (
    CustomerIdIsBlankError,
    InvalidOrderItemError,
    InvoiceIdIsBlankError,
    OrderAlreadyCreatedError,
    OrderCannotBeCancelledError,
    OrderCannotBeCompletedError,
    OrderCannotBeReadiedError,
    OrderHasNoItemsError,
    OrderNotFoundError,
    PaymentIdIsBlankError,
)
from mallbots.ordering.events import (
    ORDER_CANCELED,
    ORDER_COMPLETED,
    ORDER_CREATED,
    ORDER_READIED,
    OrderCanceled,
    OrderCompleted,
    OrderCreated,
    OrderItem,
    OrderReadied,
)
from mallbots.ordering.snapshots import OrderV1
from mallbots.ordering.status import OrderStatus


class Order(Aggregate):
    """An order: who, how they pay, what to shop for, and where it is in its life."""

    NAME = "ordering.Order"
    LIFETIME = Lifetime(SHORT_LIVED, frozenset({ORDER_COMPLETED, ORDER_CANCELED}))

    def __init__(self, id: str, **kwargs: Any) -> None:
        super().__init__(id, **kwargs)
        self.customer_id = ""
        self.payment_id = ""
        self.invoice_id = ""
        self.shopping_id = ""
        self.items: tuple[OrderItem, ...] = ()
        self.status = OrderStatus.UNKNOWN

    @property
    def total(self) -> Decimal:
        """What the order costs, exactly."""
        return self.total_of(self.items)

    @staticmethod
    def total_of(items: Sequence[OrderItem]) -> Decimal:
        """What these items cost, exactly."""
        return total((item.price, item.quantity) for item in items)

    # --- commands --------------------------------------------------------------------------

    def check_creatable(
        self, customer_id: str, payment_id: str, items: Sequence[OrderItem]
    ) -> tuple[OrderItem, ...]:
        """Refuse an order that could not be created; returns the items as a tuple.

        The application asks this before it authorises, confirms and schedules anything.
        """
        if self.status is not OrderStatus.UNKNOWN or self.pending_version:
            raise OrderAlreadyCreatedError()
        checked = _items(items)
        require_text(customer_id, "customer id", CustomerIdIsBlankError)
        require_text(payment_id, "payment id", PaymentIdIsBlankError)
        return checked

    def create(
        self, customer_id: str, payment_id: str, shopping_id: str, items: Sequence[OrderItem]
    ) -> None:
        """Create the order once; it needs items, a customer and a payment."""
        checked = self.check_creatable(customer_id, payment_id, items)
        require_text(shopping_id, "shopping id")
        self.record(
            ORDER_CREATED,
            OrderCreated(
                customer_id=customer_id,
                payment_id=payment_id,
                shopping_id=shopping_id,
                items=checked,
            ),
        )

    def cancel(self) -> None:
        """Cancel the order; only while it is pending."""
        self._require_status(OrderStatus.PENDING, OrderCannotBeCancelledError)
        self.record(ORDER_CANCELED, OrderCanceled(customer_id=self.customer_id))

    def ready(self) -> None:
        """The bots have done the shopping; only a pending order can be ready."""
        self._require_status(OrderStatus.PENDING, OrderCannotBeReadiedError)
        self.record(
            ORDER_READIED,
            OrderReadied(
                customer_id=self.customer_id, payment_id=self.payment_id, total=self.total
            ),
        )

    def complete(self, invoice_id: str) -> None:
        """The invoice is paid; only a ready order can be completed."""
        self._require_status(OrderStatus.READY, OrderCannotBeCompletedError)
        require_text(invoice_id, "invoice id", InvoiceIdIsBlankError)
        self.record(ORDER_COMPLETED, OrderCompleted(invoice_id=invoice_id))

    def _require_status(self, status: OrderStatus, refusal: type[DomainError]) -> None:
        if not self.pending_version:
            raise OrderNotFoundError(self.id)
        if self.status is not status:
            raise refusal(f"it is {self.status}, not {status}")

    # --- state -----------------------------------------------------------------------------

    def apply(self, event: AggregateEvent) -> None:
        match event.payload:
            case OrderCreated():
                payload = event.payload
                self.customer_id = payload.customer_id
                self.payment_id = payload.payment_id
                self.shopping_id = payload.shopping_id
                self.items = payload.items
                self.status = OrderStatus.PENDING
            case OrderCanceled():
                self.status = OrderStatus.CANCELLED
            case OrderReadied():
                self.status = OrderStatus.READY
            case OrderCompleted(invoice_id=invoice_id):
                self.invoice_id = invoice_id
                self.status = OrderStatus.COMPLETED
            case _:
                raise TypeError(f"{self.NAME} cannot apply {event.name}")

    def to_snapshot(self) -> OrderV1:
        return OrderV1(
            customer_id=self.customer_id,
            payment_id=self.payment_id,
            invoice_id=self.invoice_id,
            shopping_id=self.shopping_id,
            items=self.items,
            status=self.status,
        )

    def apply_snapshot(self, snapshot: Any) -> None:
        match snapshot:
            case OrderV1():
                self.customer_id = snapshot.customer_id
                self.payment_id = snapshot.payment_id
                self.invoice_id = snapshot.invoice_id
                self.shopping_id = snapshot.shopping_id
                self.items = snapshot.items
                self.status = snapshot.status
            case _:
                raise TypeError(f"{self.NAME} cannot restore from {type(snapshot).__name__}")


def _items(items: Sequence[OrderItem]) -> tuple[OrderItem, ...]:
    if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
        raise InvalidOrderItemError(f"expected a sequence of OrderItem, not {type(items).__name__}")
    if not items:
        raise OrderHasNoItemsError()
    return tuple(_item(item) for item in items)


def _item(item: OrderItem) -> OrderItem:
    """The item with its price as exact money; refused if it could not be shopped for."""
    if not isinstance(item, OrderItem):
        raise InvalidOrderItemError(f"expected an OrderItem, not {type(item).__name__}")
    for field, what in _ITEM_TEXTS:
        require_text(getattr(item, field), what)
    quantity = item.quantity
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise InvalidOrderItemError(f"the quantity of {item.product_name!r} is {quantity!r}")
    price = money(item.price, "item price")
    if price < 0:
        raise InvalidOrderItemError(f"the price of {item.product_name!r} is negative")
    return item if price is item.price else replace(item, price=price)


_ITEM_TEXTS = tuple(
    (field, f"item {field.replace('_', ' ')}")
    for field in ("product_id", "store_id", "store_name", "product_name")
)
