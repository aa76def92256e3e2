"""The Basket aggregate: a customer's basket, changed while open, then checked out."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mallbots.baskets.errors import (
    BasketAlreadyExistsError,
    BasketCannotBeCancelledError,
    BasketCannotBeModifiedError,
    BasketHasNoItemsError,
    BasketNotFoundError,
    CustomerIdIsBlankError,
    InvalidQuantityError,
    ItemNotInBasketError,
    NotEnoughInBasketError,
    PaymentIdIsBlankError,
    QuantityCannotBeNegativeError,
    QuantityCannotBeZeroError,
)
from mallbots.baskets.events import (
    BASKET_CANCELED,
    BASKET_CHECKED_OUT,
    BASKET_ITEM_ADDED,
    BASKET_ITEM_REMOVED,
    BASKET_STARTED,
    BasketCanceled,
    BasketCheckedOut,
    BasketItemAdded,
    BasketItemRemoved,
    BasketStarted,
    Item,
)
from mallbots.baskets.ports import ProductView, StoreView
from mallbots.baskets.snapshots import BasketV1
from mallbots.baskets.status import BasketStatus
from mallbots.errors import require_text
from mallbots.es import Aggregate, AggregateEvent
from mallbots.es.lifetimes import SHORT_LIVED, Lifetime
from mallbots.money import money, total

MAX_QUANTITY = 1_000_000
"""The most of one product a basket line may hold (keeps every total exact and storable)."""


class Basket(Aggregate):
    """A basket: its customer, its lines by product id, and its status."""

    NAME = "baskets.Basket"
    LIFETIME = Lifetime(SHORT_LIVED, frozenset({BASKET_CANCELED, BASKET_CHECKED_OUT}))

    def __init__(self, id: str, **kwargs: Any) -> None:
        super().__init__(id, **kwargs)
        self.customer_id = ""
        self.payment_id = ""
        self.items: dict[str, Item] = {}
        self.status = BasketStatus.UNKNOWN

    @property
    def total(self) -> Decimal:
        """What the basket costs, exactly."""
        return total((item.product_price, item.quantity) for item in self.items.values())

    # --- commands --------------------------------------------------------------------------

    def start(self, customer_id: str) -> None:
        """Open the basket for a customer."""
        if self.pending_version:
            raise BasketAlreadyExistsError(self.id)
        require_text(customer_id, "customer id", CustomerIdIsBlankError)
        self.record(BASKET_STARTED, BasketStarted(customer_id=customer_id))

    def add_item(self, store: StoreView, product: ProductView, quantity: int) -> None:
        """Put ``quantity`` of a product in; a product already in adds to its line."""
        self._require_open()
        quantity = _quantity(quantity)
        held = self.items[product.id].quantity if product.id in self.items else 0
        if held + quantity > MAX_QUANTITY:
            raise InvalidQuantityError(f"a line holds at most {MAX_QUANTITY:,}")
        item = Item(
            store_id=store.id,
            product_id=product.id,
            store_name=store.name,
            product_name=product.name,
            product_price=money(product.price, "product price"),
            quantity=quantity,
        )
        self.record(BASKET_ITEM_ADDED, BasketItemAdded(item=item))

    def remove_item(self, product_id: str, quantity: int) -> None:
        """Take ``quantity`` of a product out; its line goes when none is left."""
        self._require_open()
        quantity = _quantity(quantity)
        item = self.items.get(product_id)
        if item is None:
            raise ItemNotInBasketError(repr(product_id))
        if quantity > item.quantity:
            raise NotEnoughInBasketError(f"it holds {item.quantity} of {item.product_name!r}")
        self.record(
            BASKET_ITEM_REMOVED, BasketItemRemoved(product_id=product_id, quantity=quantity)
        )

    def cancel(self) -> None:
        """Give the basket up; only while it is open."""
        self._require_created()
        if self.status is not BasketStatus.OPEN:
            raise BasketCannotBeCancelledError(f"it is {self.status}")
        self.record(BASKET_CANCELED, BasketCanceled())

    def checkout(self, payment_id: str) -> None:
        """Pay for the basket; it must be open, hold items, and name a payment."""
        self._require_open()
        if not self.items:
            raise BasketHasNoItemsError()
        require_text(payment_id, "payment id", PaymentIdIsBlankError)
        self.record(
            BASKET_CHECKED_OUT,
            BasketCheckedOut(
                payment_id=payment_id,
                customer_id=self.customer_id,
                items=tuple(self.items.values()),
            ),
        )

    def _require_created(self) -> None:
        if not self.pending_version:
            raise BasketNotFoundError(self.id)

    def _require_open(self) -> None:
        self._require_created()
        if self.status is not BasketStatus.OPEN:
            raise BasketCannotBeModifiedError(f"it is {self.status}")

    # --- state -----------------------------------------------------------------------------

    def apply(self, event: AggregateEvent) -> None:
        match event.payload:
            case BasketStarted(customer_id=customer_id):
                self.customer_id = customer_id
                self.status = BasketStatus.OPEN
            case BasketItemAdded(item=item):
                held = self.items.get(item.product_id)
                if held is not None:  # the line keeps the price it was first added at
                    item = _with_quantity(held, held.quantity + item.quantity)
                self.items[item.product_id] = item
            case BasketItemRemoved(product_id=product_id, quantity=quantity):
                held = self.items[product_id]
                if held.quantity - quantity <= 0:  # the book removes the line at <= 1
                    del self.items[product_id]
                else:
                    self.items[product_id] = _with_quantity(held, held.quantity - quantity)
            case BasketCanceled():
                self.items = {}
                self.status = BasketStatus.CANCELED
            case BasketCheckedOut(payment_id=payment_id):
                self.payment_id = payment_id
                self.status = BasketStatus.CHECKED_OUT
            case _:
                raise TypeError(f"{self.NAME} cannot apply {event.name}")

    def to_snapshot(self) -> BasketV1:
        return BasketV1(
            customer_id=self.customer_id,
            payment_id=self.payment_id,
            items=tuple(self.items.values()),
            status=self.status,
        )

    def apply_snapshot(self, snapshot: Any) -> None:
        match snapshot:
            case BasketV1():
                self.customer_id = snapshot.customer_id
                self.payment_id = snapshot.payment_id
                self.items = {item.product_id: item for item in snapshot.items}
                self.status = snapshot.status
            case _:
                raise TypeError(f"{self.NAME} cannot restore from {type(snapshot).__name__}")


def _quantity(value: Any) -> int:
    """A quantity of at least 1: zero would record an event that changes nothing."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidQuantityError(f"expected a whole number, not {type(value).__name__}")
    if value < 0:
        raise QuantityCannotBeNegativeError()
    if value == 0:
        raise QuantityCannotBeZeroError()
    if value > MAX_QUANTITY:
        raise InvalidQuantityError(f"a line holds at most {MAX_QUANTITY:,}")
    return value


def _with_quantity(item: Item, quantity: int) -> Item:
    """``dataclasses.replace(item, quantity=quantity)``, at a third of the cost."""
    return Item(
        item.store_id,
        item.product_id,
        item.store_name,
        item.product_name,
        item.product_price,
        quantity,
    )
