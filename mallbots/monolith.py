"""What every module gets from the monolith (the book's ``monolith.Monolith``).

One database, one event dispatcher, one clock and one id factory are shared by all
modules, so a seeded shop is reproducible end to end. An event-sourced module asks for
its aggregate store here: its own ``<schema>.events`` and ``<schema>.snapshots`` tables,
wrapped as in the book (publisher outermost, then snapshots, then the event store).
A module whose streams may have their books closed also gets ``<schema>.continuations``
and the middleware that follows them, between the publisher and the snapshots. With an
aggregate cache, its middleware goes outside them all.

A shop kept in PostgreSQL writes there (``database``, a
:class:`~mallbots.es.postgres.PostgresDatabase`, whose ``storage`` makes the stores)
and reads its read models from a local DuckDB (``read_models``); on DuckDB both are
the one database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from mallbots.es import (
    Aggregate,
    AggregateRepository,
    AggregateStore,
    Database,
    EventDispatcher,
    EventStore,
    Registry,
    SnapshotStore,
)
from mallbots.es.books import Continuations
from mallbots.es.books import continuations as following
from mallbots.es.cache import AggregateCache
from mallbots.es.chain import store_chain
from mallbots.es.clock import Clock
from mallbots.es.ids import IdFactory
from mallbots.es.snapshots import SnapshotStrategy

A = TypeVar("A", bound=Aggregate)


class Storage(Protocol):
    """Makes a module's event store, snapshot store and continuations on one backend."""

    shared: bool
    """Whether other processes write the same streams (then nothing trusts memory)."""

    def event_store(self, registry: Registry, table: str) -> Any: ...

    def snapshot_store(
        self, events: Any, registry: Registry, table: str, strategy: SnapshotStrategy
    ) -> Any: ...

    def continuations(self, table: str) -> Any: ...


@dataclass(frozen=True)
class DuckDBStorage:
    """The stores on one DuckDB database."""

    database: Database
    shared = False

    def event_store(self, registry: Registry, table: str) -> EventStore:
        return EventStore(self.database, registry, table)

    def snapshot_store(
        self, events: EventStore, registry: Registry, table: str, strategy: SnapshotStrategy
    ) -> SnapshotStore:
        return SnapshotStore(events, self.database, registry, table, strategy)

    def continuations(self, table: str) -> Continuations:
        return Continuations(self.database, table)


@dataclass(frozen=True)
class Monolith:
    """The shared infrastructure handed to each module when it starts."""

    database: Any
    """Where commands write: a DuckDB :class:`Database`, or a PostgreSQL one."""
    dispatcher: EventDispatcher
    clock: Clock
    ids: IdFactory
    snapshot_strategy: SnapshotStrategy
    aggregate_cache: AggregateCache | None = None
    """Shared by every module's aggregate store (keys hold the aggregate name)."""
    storage: Storage | None = None
    """Makes the stores (default: :class:`DuckDBStorage` on ``database``)."""
    read_models: Database | None = None
    """Where read models live and queries read (default: ``database``)."""

    @property
    def read_side(self) -> Database:
        """The DuckDB database of the read models."""
        return self.database if self.read_models is None else self.read_models

    def event_sourcing(
        self, registry: Registry, schema: str, *, continuations: bool = False
    ) -> EventSourcing:
        """The event store and aggregate store of a module that keeps its events in ``schema``.

        With ``continuations``, aggregates whose books were closed load from their newest
        stream.
        """
        storage = self.storage or DuckDBStorage(self.database)
        events = storage.event_store(registry, f"{schema}.events")
        pointers = storage.continuations(f"{schema}.continuations") if continuations else None
        snapshot_store = storage.snapshot_store(
            events, registry, f"{schema}.snapshots", self.snapshot_strategy
        )
        store = store_chain(
            events,
            snapshot_store,
            dispatcher=self.dispatcher,
            continuations=following(pointers) if pointers is not None else None,
            cache=self.aggregate_cache,
            transactions=self.database,
            shared=storage.shared,
        )
        return EventSourcing(self, events, snapshot_store, store, pointers)


@dataclass(frozen=True)
class EventSourcing:
    """A module's event store, its snapshot store, and the aggregate store around them."""

    monolith: Monolith
    events: EventStore
    snapshots: SnapshotStore
    store: AggregateStore
    continuations: Continuations | None = None

    def repository(self, aggregate_type: type[A]) -> AggregateRepository[A]:
        """A repository of ``aggregate_type`` using the monolith's clock and ids."""
        return AggregateRepository(
            aggregate_type, self.store, clock=self.monolith.clock, ids=self.monolith.ids
        )
