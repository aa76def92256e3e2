"""The stores module's events: names as stored, payloads as frozen dataclasses.

As in the book, one payload type serves two names where the change is the same shape:
``StoreParticipationToggled`` for enabled and disabled, ``ProductPriceChanged`` for
increased and decreased (its ``delta`` is negative for a decrease).
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
class ProductAdded:
    store_id: str
    name: str
    description: str
    sku: str
    price: Decimal


@dataclass(frozen=True)
class ProductRebranded:
    name: str
    description: str


@dataclass(frozen=True)
class ProductPriceChanged:
    delta: Decimal


@dataclass(frozen=True)
class ProductRemoved:
    pass
