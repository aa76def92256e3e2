"""Schema evolution of the stores module's events: old payloads read as current types.

``stores.ProductAdded`` is at schema version 2. Version 1 is an earlier release that
kept money as the book's Go code does: the price a ``float64``, so a JSON number
(``9.99``, or ``9.990000000000002`` after some float arithmetic); it had no ``sku`` yet
(the book's event has one). The log is never rewritten: a
registered upcaster carries each version 1 payload up to version 2 every time it is
read, and new events are stored at version 2 (their metadata says so).

A set-based rebuild reads the stored JSON in SQL, not through the upcaster, so each
field an upcaster changes has its SQL twin here, right beside it: :data:`SKU_SQL` and
:data:`PRICE_SQL` read both versions exactly as the upcaster does (a test proves it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from mallbots.es import AggregateEvent, EventStore, Registry
from mallbots.money import CENT
from mallbots.stores.events import PRODUCT_ADDED

PRODUCT_ADDED_VERSION = 2


@dataclass(frozen=True)
class ProductAddedV1:
    """``stores.ProductAdded`` as version 1 stored it (kept to write old logs in examples)."""

    store_id: str
    name: str
    description: str
    price: float


def price_from_v1(value: Any) -> str:
    """A version 1 price as exact money text: the float64 it was, rounded half up to cents.

    Events stored by this package before version 2 already hold ``"9.99"`` strings;
    those pass unchanged.
    """
    if isinstance(value, str):
        return str(Decimal(value).quantize(CENT, ROUND_HALF_UP))
    return str(Decimal(repr(float(value))).quantize(CENT, ROUND_HALF_UP))


def product_added_v1_to_v2(old: dict[str, Any]) -> dict[str, Any]:
    """Version 1 -> 2: a blank ``sku`` where there was none, the price as exact money."""
    return {**old, "sku": old.get("sku", ""), "price": price_from_v1(old["price"])}


SKU_SQL = "coalesce(event_data->>'sku', '')"
"""The ``sku`` of a stored ``ProductAdded`` of any version, in SQL."""

PRICE_SQL = "(event_data->>'price')::DECIMAL(18, 2)"
"""The price of a stored ``ProductAdded`` of any version, in SQL: DuckDB prints a JSON
number as Python's ``repr`` of the float does and rounds half away from zero, so this
is :func:`price_from_v1` for non-negative prices."""


def register_upcasters(registry: Registry) -> Registry:
    """Register the stores module's upcasters on ``registry``."""
    registry.register_upcaster(PRODUCT_ADDED, 1, product_added_v1_to_v2)
    return registry


def v1_registry() -> Registry:
    """A registry as the old service had it: ``ProductAdded`` at version 1 (for examples)."""
    registry = Registry()
    registry.register_event(PRODUCT_ADDED, ProductAddedV1)
    return registry


def append_v1_product_added(
    events: EventStore,
    product_id: str,
    payload: ProductAddedV1,
    *,
    occurred_at: datetime,
    event_id: str,
) -> AggregateEvent:
    """Write a ``ProductAdded`` as version 1 did, straight into a stores events table.

    For showing schema evolution: the stored JSON has no ``sku`` and a numeric price.
    """
    old = EventStore(events.database, v1_registry(), events.table)
    event = AggregateEvent(
        event_id, PRODUCT_ADDED, payload, occurred_at, "stores.Product", product_id, 1
    )
    (stored,) = old.append("stores.Product", product_id, 0, [event])
    return stored
