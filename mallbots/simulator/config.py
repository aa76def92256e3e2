"""What a simulation is made of: the size of the mall, how long it runs, how people behave.

Every rate is a probability per chance to act (per store, product, customer or order,
per simulated day), so a bigger mall or a longer run scales the log without changing
its shape. The presets run from a classroom-sized log to a million events.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime


@dataclass(frozen=True)
class SimulationConfig:
    """A mall, its customers, the days it runs, and how often each thing happens."""

    seed: int = 42
    stores: int = 8
    products_per_store: int = 10
    customers: int = 200
    days: int = 10
    max_events: int | None = None
    """Stop once the log holds at least this many events (None: run every day)."""
    start: datetime = datetime(2024, 3, 4, tzinfo=UTC)
    """Midnight of the first simulated day (a Monday)."""

    # --- the stores' staff, per store or product, per day
    toggle_participation: float = 0.04
    rebrand_store: float = 0.03
    rebrand_product: float = 0.01
    reprice_product: float = 0.06
    remove_product: float = 0.01
    """A removed product is replaced by a new one the same morning."""

    # --- customers
    registration_days: int = 3
    """Customers register evenly over the first days (all of them on day 1 if 1)."""
    visit: float = 0.5
    """A registered customer comes to the mall on a given day."""
    items_per_visit: int = 3
    """A visit adds 1 to this many items."""
    max_quantity: int = 3
    remove_item: float = 0.15
    checkout: float = 0.6
    """After a visit, the customer checks the basket out ..."""
    cancel_basket: float = 0.1
    """... or cancels it; otherwise the basket stays open for another visit ..."""
    forget_basket: float = 0.2
    """... unless the customer forgets it: it stays open for good, and they start anew."""

    # --- the back office, per order, per evening
    assign_list: float = 0.7
    """A pending order's shopping list goes to a bot ..."""
    cancel_order: float = 0.04
    """... or the order is cancelled (also once its list is assigned, not yet done)."""
    complete_list: float = 0.85
    """A bot completes an assigned list (which readies the order and bills it)."""
    bots: int = 5
    """Bots in the depot; a list goes to one of them at random."""
    pay_invoice: float = 0.8
    adjust_invoice: float = 0.1
    """An invoice about to be paid is adjusted first (a discount of 5 or 10 percent)."""

    def with_changes(self, **changes: object) -> SimulationConfig:
        """A copy with some fields changed (``preset.with_changes(seed=7)``)."""
        return replace(self, **changes)


PRESETS: dict[str, SimulationConfig] = {
    "classroom": SimulationConfig(),
    "small": SimulationConfig(stores=12, products_per_store=15, customers=500, days=14),
    "medium": SimulationConfig(stores=30, products_per_store=20, customers=2_000, days=20),
    "million": SimulationConfig(
        stores=60, products_per_store=25, customers=10_000, days=60, max_events=1_000_000
    ),
}
"""Named sizes, smallest first: about 5,000, 17,000, 100,000 and 1,000,000 events."""
