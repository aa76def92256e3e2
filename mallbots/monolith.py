"""What every module gets from the monolith (the book's ``monolith.Monolith``).

One database, one event dispatcher, one clock and one id factory are shared by all
modules, so a seeded shop is reproducible end to end. An event-sourced module asks for
its aggregate store here: its own ``<schema>.events`` and ``<schema>.snapshots`` tables,
wrapped as in the book (publisher outermost, then snapshots, then the event store).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from mallbots.es import (
    Aggregate,
    AggregateRepository,
    AggregateStore,
    Clock,
    Database,
    EventDispatcher,
    EventStore,
    IdFactory,
    Registry,
    SnapshotStore,
    SnapshotStrategy,
    publisher,
    with_middleware,
)

A = TypeVar("A", bound=Aggregate)


@dataclass(frozen=True)
class Monolith:
    """The shared infrastructure handed to each module when it starts."""

    database: Database
    dispatcher: EventDispatcher
    clock: Clock
    ids: IdFactory
    snapshot_strategy: SnapshotStrategy

    def event_sourcing(self, registry: Registry, schema: str) -> EventSourcing:
        """The event store and aggregate store of a module that keeps its events in ``schema``."""
        events = EventStore(self.database, registry, f"{schema}.events")
        snapshot_store = SnapshotStore(
            events, self.database, registry, f"{schema}.snapshots", self.snapshot_strategy
        )
        store = with_middleware(snapshot_store, publisher(self.dispatcher))
        return EventSourcing(self, events, snapshot_store, store)


@dataclass(frozen=True)
class EventSourcing:
    """A module's event store, its snapshot store, and the aggregate store around them."""

    monolith: Monolith
    events: EventStore
    snapshots: SnapshotStore
    store: AggregateStore

    def repository(self, aggregate_type: type[A]) -> AggregateRepository[A]:
        """A repository of ``aggregate_type`` using the monolith's clock and ids."""
        return AggregateRepository(
            aggregate_type, self.store, clock=self.monolith.clock, ids=self.monolith.ids
        )
