"""The aggregate store chain, assembled in one place, wraps in the book's order."""

from __future__ import annotations

import pytest

from mallbots.es import Database, EventDispatcher, EventStore, SnapshotStore
from mallbots.es.cache import AggregateCache
from mallbots.es.chain import store_chain
from tests.es_support import bank_registry


def _layers(store) -> list[str]:
    names = []
    while store is not None:
        names.append(type(store).__name__)
        store = getattr(store, "inner", None)
    return names


def test_the_chain_wraps_cache_publisher_snapshots_events_outside_in():
    with Database.memory() as db:
        registry = bank_registry()
        events = EventStore(db, registry, "bank.events")
        snapshots = SnapshotStore(events, db, registry, "bank.snapshots")
        chain = store_chain(
            events,
            snapshots,
            dispatcher=EventDispatcher(),
            cache=AggregateCache(),
            transactions=db,
        )
        assert _layers(chain) == ["CachingStore", "EventPublisher", "SnapshotStore", "EventStore"]
        assert store_chain(events) is events


def test_a_snapshot_store_around_another_event_store_is_refused():
    with Database.memory() as db:
        registry = bank_registry()
        events = EventStore(db, registry, "bank.events")
        other = EventStore(db, registry, "other.events")
        with pytest.raises(ValueError, match="must wrap"):
            store_chain(events, SnapshotStore(other, db, registry, "bank.snapshots"))
        with pytest.raises(ValueError, match="transactions"):
            store_chain(events, cache=AggregateCache())
