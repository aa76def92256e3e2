"""The baskets module, wired like the book's ``baskets/module.go``.

Events and snapshots live in ``baskets.events`` and ``baskets.snapshots``. A basket is
read back from its stream (``GetBasket``), as in the book: this module has no read model.
"""

from __future__ import annotations

from mallbots.baskets import events, snapshots
from mallbots.baskets.application import BasketsApplication
from mallbots.baskets.basket import Basket
from mallbots.baskets.handlers import OrderHandlers
from mallbots.baskets.ports import Catalog, Customers, Orders
from mallbots.es import Registry
from mallbots.monolith import Monolith

SCHEMA = "baskets"


def registrations(registry: Registry) -> Registry:
    """Register the baskets module's event and snapshot names on ``registry``."""
    registry.register_event(events.BASKET_STARTED, events.BasketStarted)
    registry.register_event(events.BASKET_ITEM_ADDED, events.BasketItemAdded)
    registry.register_event(events.BASKET_ITEM_REMOVED, events.BasketItemRemoved)
    registry.register_event(events.BASKET_CANCELED, events.BasketCanceled)
    registry.register_event(events.BASKET_CHECKED_OUT, events.BasketCheckedOut)
    registry.register_snapshot(snapshots.BASKET_V1, snapshots.BasketV1)
    return registry


class BasketsModule:
    """Baskets, event sourced; a checkout creates the order through ``orders``."""

    def __init__(
        self, monolith: Monolith, catalog: Catalog, customers: Customers, orders: Orders
    ) -> None:
        self.registry = registrations(Registry())
        sourcing = monolith.event_sourcing(self.registry, SCHEMA)
        self.events = sourcing.events
        self.snapshots = sourcing.snapshots
        self.baskets = sourcing.repository(Basket)
        self.application = BasketsApplication(
            monolith.database, self.baskets, catalog, customers, orders, monolith.ids
        )
        OrderHandlers(orders).subscribe(monolith.dispatcher)
