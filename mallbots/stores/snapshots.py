"""Snapshot payloads of the stores module's aggregates (``stores.StoreV1``, ``stores.ProductV1``).

``ProductV1`` also keeps ``removed``: the book's product forgets it was removed, so a
removed product could be changed again; ours refuses, and a snapshot must remember why.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

STORE_V1 = "stores.StoreV1"
PRODUCT_V1 = "stores.ProductV1"


@dataclass(frozen=True)
class StoreV1:
    name: str
    location: str
    participating: bool


@dataclass(frozen=True)
class ProductV1:
    store_id: str
    name: str
    description: str
    sku: str
    price: Decimal
    removed: bool
