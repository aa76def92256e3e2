"""The aggregate store port and the book's middleware chain.

An aggregate store loads an aggregate's state and saves its pending events. The event
store is the innermost one; middleware wraps a store to add a concern: snapshots,
publishing saved events to handlers. As in the book, the first middleware named is the
outermost: ``with_middleware(events, publisher(d), snapshots(...))`` publishes only
after the snapshot middleware has committed the events and their snapshot together.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from mallbots.es.aggregate import Aggregate
from mallbots.es.events import AggregateEvent


class AggregateStore(Protocol):
    """Loads and saves event-sourced aggregates."""

    def load(self, aggregate: Aggregate) -> None:
        """Bring ``aggregate`` up to its latest stored version."""

    def save(self, aggregate: Aggregate) -> list[AggregateEvent]:
        """Store the pending events; return them as stored (with positions)."""


Middleware = Callable[[AggregateStore], AggregateStore]
"""A middleware takes a store and returns a store that wraps it."""


def with_middleware(store: AggregateStore, *middleware: Middleware) -> AggregateStore:
    """Wrap ``store`` so that the first middleware given is the outermost."""
    for wrap in reversed(middleware):
        store = wrap(store)
    return store
