"""The stores module's events: names as stored, payloads as frozen dataclasses.

As in the book, one payload type serves two names where the change is the same shape:
``StoreParticipationToggled`` for enabled and disabled, ``ProductPriceChanged`` for
increased and decreased (its ``delta`` is negative for a decrease).

A product whose price changes every day would grow its stream without end, so its books
can be closed (:mod:`mallbots.es.books`): ``ProductBooksClosed`` ends the stream with
the product as it stands, ``ProductBooksOpened`` starts the next one from there.

``ProductAdded`` is at schema version 2: version 1, an earlier release, had no ``sku``
and kept the price as the book does, a float, so a JSON number
(:mod:`mallbots.stores.upcasters`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

STORE_CREATED = "stores.StoreCreated"
STORE_PARTICIPATION_ENABLED = "stores.StoreParticipationEnabled"
STORE_PARTICIPATION_DISABLED = "stores.StoreParticipationDisabled"
STORE_REBRANDED = "stores.StoreRebranded"

PRODUCT_ADDED = "stores.ProductAdded"
PRODUCT_REBRANDED = "stores.ProductRebranded"
PRODUCT_PRICE_INCREASED = "stores.ProductPriceIncreased"
PRODUCT_PRICE_DECREASED = "stores.ProductPriceDecreased"
PRODUCT_REMOVED = "stores.ProductRemoved"
PRODUCT_BOOKS_CLOSED = "stores.ProductBooksClosed"
PRODUCT_BOOKS_OPENED = "stores.ProductBooksOpened"


@dataclass(frozen=True)
class StoreCreated:
    name: str
    location: str


@dataclass(frozen=True)
class StoreParticipationToggled:
    participating: bool


@dataclass(frozen=True)
class StoreRebranded:
    name: str


@dataclass(frozen=True)
class ProductFacts:
    """What there is to know about a product on sale (shared by the payloads that say it)."""

    store_id: str
    name: str
    description: str
    sku: str
    price: Decimal


@dataclass(frozen=True)
class ProductAdded(ProductFacts):
    """A product joined a store's catalog (schema version 2: with a sku)."""


@dataclass(frozen=True)
class ProductRebranded:
    name: str
    description: str


@dataclass(frozen=True)
class ProductPriceChanged:
    delta: Decimal


@dataclass(frozen=True)
class ProductRemoved:
    """A product left its store's catalog; nothing else to say."""


@dataclass(frozen=True)
class ProductBooksClosed(ProductFacts):
    """The last event of a product's stream: the product as it stood, and where it lives on."""

    continued_in: str


@dataclass(frozen=True)
class ProductBooksOpened(ProductFacts):
    """The first event of a continuation stream: the product carried forward."""

    continues: str
