"""The stores module, wired like the book's ``stores/module.go``.

Its events and snapshots live in ``stores.events`` and ``stores.snapshots``; its read
models, ``stores.stores`` (the mall) and ``stores.products`` (the catalog), are kept by
two projections that the monolith's projector runs inline.
"""

from __future__ import annotations

from mallbots.es import Projection, Registry
from mallbots.monolith import Monolith
from mallbots.stores import events, snapshots, upcasters
from mallbots.stores.application import StoresApplication
from mallbots.stores.catalog import Catalog, CatalogProjection
from mallbots.stores.mall import Mall, MallProjection
from mallbots.stores.product import Product
from mallbots.stores.store import Store

SCHEMA = "stores"


def registrations(registry: Registry) -> Registry:
    """Register the stores module's event and snapshot names on ``registry``."""
    registry.register_event(events.STORE_CREATED, events.StoreCreated)
    registry.register_event(events.STORE_PARTICIPATION_ENABLED, events.StoreParticipationToggled)
    registry.register_event(events.STORE_PARTICIPATION_DISABLED, events.StoreParticipationToggled)
    registry.register_event(events.STORE_REBRANDED, events.StoreRebranded)
    registry.register_snapshot(snapshots.STORE_V1, snapshots.StoreV1)
    registry.register_event(
        events.PRODUCT_ADDED, events.ProductAdded, version=upcasters.PRODUCT_ADDED_VERSION
    )
    registry.register_event(events.PRODUCT_REBRANDED, events.ProductRebranded)
    registry.register_event(events.PRODUCT_PRICE_INCREASED, events.ProductPriceChanged)
    registry.register_event(events.PRODUCT_PRICE_DECREASED, events.ProductPriceChanged)
    registry.register_event(events.PRODUCT_REMOVED, events.ProductRemoved)
    registry.register_event(events.PRODUCT_BOOKS_CLOSED, events.ProductBooksClosed)
    registry.register_event(events.PRODUCT_BOOKS_OPENED, events.ProductBooksOpened)
    registry.register_snapshot(snapshots.PRODUCT_V1, snapshots.ProductV1)
    return upcasters.register_upcasters(registry)


class StoresModule:
    """Stores and products, event sourced, with the mall and catalog read models."""

    def __init__(self, monolith: Monolith) -> None:
        self.registry = registrations(Registry())
        sourcing = monolith.event_sourcing(self.registry, SCHEMA, continuations=True)
        self.events = sourcing.events
        self.continuations = sourcing.continuations
        self.snapshots = sourcing.snapshots
        self.stores = sourcing.repository(Store)
        self.products = sourcing.repository(Product)
        self.mall_projection = MallProjection(SCHEMA)
        self.catalog_projection = CatalogProjection(SCHEMA)
        self.application = StoresApplication(
            monolith.database,
            self.stores,
            self.products,
            Mall(monolith.read_side, self.mall_projection.table),
            Catalog(monolith.read_side, self.catalog_projection.table),
            monolith.ids,
            self.continuations,
        )

    @property
    def projections(self) -> list[Projection]:
        """The read models the monolith's projector must run inline."""
        return [self.mall_projection, self.catalog_projection]
