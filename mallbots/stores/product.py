"""The Product aggregate: something a store sells, at an exact price.

Its stream can grow without end (a price that changes daily), so its books can be
closed: the old stream ends with the product as it stands and a new stream opens with
it (see :mod:`mallbots.es.books`). The product keeps its id throughout.
"""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal
from typing import Any

from mallbots.errors import require_text
from mallbots.es import Aggregate, AggregateEvent
from mallbots.es.lifetimes import LONG_LIVED, Lifetime
from mallbots.money import ZERO, money
from mallbots.stores.errors import (
    BooksClosedError,
    NotAPriceDecreaseError,
    NotAPriceIncreaseError,
    PriceUnchangedError,
    ProductAlreadyExistsError,
    ProductIsRemovedError,
    ProductNameIsBlankError,
    ProductNotFoundError,
    ProductPriceIsNegativeError,
    StoreIdIsBlankError,
)
from mallbots.stores.events import (
    PRODUCT_ADDED,
    PRODUCT_BOOKS_CLOSED,
    PRODUCT_BOOKS_OPENED,
    PRODUCT_PRICE_DECREASED,
    PRODUCT_PRICE_INCREASED,
    PRODUCT_REBRANDED,
    PRODUCT_REMOVED,
    ProductAdded,
    ProductBooksClosed,
    ProductBooksOpened,
    ProductFacts,
    ProductPriceChanged,
    ProductRebranded,
    ProductRemoved,
)
from mallbots.stores.snapshots import ProductV1

PRODUCT_FACTS = tuple(field.name for field in fields(ProductFacts))


class Product(Aggregate):
    """A product of one store. Once removed it refuses every further change."""

    NAME = "stores.Product"
    LIFETIME = Lifetime(LONG_LIVED, frozenset({PRODUCT_REMOVED, PRODUCT_BOOKS_CLOSED}))

    def __init__(self, id: str, **kwargs: Any) -> None:
        super().__init__(id, **kwargs)
        self.store_id = ""
        self.name = ""
        self.description = ""
        self.sku = ""
        self.price = ZERO
        self.removed = False
        self._continued_in = ""  # set once its books are closed: it lives on elsewhere

    # --- commands --------------------------------------------------------------------------

    def add(self, store_id: str, name: str, description: str, sku: str, price: Any) -> None:
        """Put the product on sale. The name must not be blank, the price not negative."""
        if self.pending_version:
            raise ProductAlreadyExistsError(self.id)
        require_text(store_id, "store id", StoreIdIsBlankError)
        require_text(name, "product name", ProductNameIsBlankError)
        require_text(description, "product description")
        require_text(sku, "product SKU")
        price = _price(price)
        self.record(
            PRODUCT_ADDED,
            ProductAdded(
                store_id=store_id, name=name, description=description, sku=sku, price=price
            ),
        )

    def rebrand(self, name: str, description: str) -> None:
        """Change name and description (the book lets the name go blank; this does not)."""
        self._require_on_sale()
        require_text(name, "product name", ProductNameIsBlankError)
        require_text(description, "product description")
        self.record(PRODUCT_REBRANDED, ProductRebranded(name=name, description=description))

    def increase_price(self, price: Any) -> None:
        """Raise the price to ``price``; refused if that would lower or keep it."""
        self._require_on_sale()
        price = _price(price)
        if price < self.price:
            raise NotAPriceIncreaseError()
        self._change_price(PRODUCT_PRICE_INCREASED, price)

    def decrease_price(self, price: Any) -> None:
        """Lower the price to ``price``; refused if that would raise or keep it."""
        self._require_on_sale()
        price = _price(price)
        if price > self.price:
            raise NotAPriceDecreaseError()
        self._change_price(PRODUCT_PRICE_DECREASED, price)

    def remove(self) -> None:
        """Take the product off sale for good; refused if it is already removed."""
        self._require_on_sale()
        self.record(PRODUCT_REMOVED, ProductRemoved())

    def close_books(self, continued_in: str) -> None:
        """End this stream with the product as it stands; it continues in ``continued_in``."""
        self._require_on_sale()
        self.record(
            PRODUCT_BOOKS_CLOSED, ProductBooksClosed(**self._facts(), continued_in=continued_in)
        )

    def open_books(self, predecessor: Any) -> None:
        """Start a continuation stream with ``predecessor``'s state carried forward."""
        if self.pending_version:
            raise ProductAlreadyExistsError(self.id)
        facts = predecessor._facts()
        self.record(
            PRODUCT_BOOKS_OPENED, ProductBooksOpened(**facts, continues=predecessor.stream_id)
        )

    def _change_price(self, name: str, price: Decimal) -> None:
        if price == self.price:
            raise PriceUnchangedError(f"it is already {self.price}")
        self.record(name, ProductPriceChanged(delta=price - self.price))

    def _require_on_sale(self) -> None:
        if not self.pending_version:
            raise ProductNotFoundError(self.id)
        if self.removed:
            raise ProductIsRemovedError()
        if self._continued_in:
            raise BooksClosedError(f"it continues in stream {self._continued_in!r}")

    # --- state -----------------------------------------------------------------------------

    def apply(self, event: AggregateEvent) -> None:
        match event.payload:
            case ProductAdded() | ProductBooksOpened():
                self._take(event.payload)
            case ProductRebranded(name=name, description=description):
                self.name = name
                self.description = description
            case ProductPriceChanged(delta=delta):
                self.price += delta
            case ProductRemoved():
                self.removed = True
            case ProductBooksClosed(continued_in=continued_in):
                self._continued_in = continued_in
            case _:
                raise TypeError(f"{self.NAME} cannot apply {event.name}")

    def _facts(self) -> dict[str, Any]:
        """Its facts, as the payloads that carry them forward name them."""
        return {field: getattr(self, field) for field in PRODUCT_FACTS}

    def _take(self, facts: Any) -> None:
        """Take on the facts of a payload or snapshot (store, name, description, sku, price)."""
        for field in PRODUCT_FACTS:
            setattr(self, field, getattr(facts, field))

    def to_snapshot(self) -> ProductV1:
        return ProductV1(
            store_id=self.store_id,
            name=self.name,
            description=self.description,
            sku=self.sku,
            price=self.price,
            removed=self.removed,
        )

    def apply_snapshot(self, snapshot: Any) -> None:
        match snapshot:
            case ProductV1():
                self._take(snapshot)
                self.removed = snapshot.removed
            case _:
                raise TypeError(f"{self.NAME} cannot restore from {type(snapshot).__name__}")


def _price(value: Any) -> Decimal:
    price = money(value, "product price")
    if price < 0:
        raise ProductPriceIsNegativeError()
    return price
