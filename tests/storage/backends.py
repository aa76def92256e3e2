"""One wiring of the event store per backend, so that one suite checks them all."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mallbots.es import (
    AggregateRepository,
    EventLog,
    EventStore,
    EveryNEvents,
    SeededIds,
    SteppingClock,
    snapshots,
    with_middleware,
)
from mallbots.es.registry import Registry
from tests.es_support import Account, bank_registry

BACKENDS = ("duckdb-memory", "duckdb-file", "postgresql")


class Backend:
    """An event store's database and the classes that use it, for one backend."""

    def __init__(self, name: str, database: Any) -> None:
        self.name = name
        self.database = database

    @property
    def postgres(self) -> bool:
        return self.name == "postgresql"

    def event_store(self, registry: Registry, table: str = "bank.events") -> Any:
        if self.postgres:
            from mallbots.es.postgres import PostgresEventStore

            return PostgresEventStore(self.database, registry, table)
        return EventStore(self.database, registry, table)

    def snapshots(self, registry: Registry, table: str = "bank.snapshots", every: int = 3):
        if self.postgres:
            from mallbots.es.postgres import postgres_snapshots

            return postgres_snapshots(self.database, registry, table, EveryNEvents(every))
        return snapshots(self.database, registry, table, EveryNEvents(every))

    def log(self, registry: Registry, tables: Sequence[str] | None = None) -> EventLog:
        if self.postgres:
            from mallbots.es.postgres import PostgresLog

            return PostgresLog(self.database, registry, tables)
        return EventLog(self.database, registry, tables)

    def transaction(self):
        return self.database.transaction()

    def count(self, table: str) -> int:
        return self.database.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


class BankOn:
    """The test bank wired on a backend: event store, snapshots every 3 events, repository."""

    def __init__(self, backend: Backend, seed: int | None = None) -> None:
        """Ids from ``seed``, or random ones (as processes sharing a store need)."""
        self.registry = bank_registry()
        self.events = backend.event_store(self.registry)
        self.snapshots = backend.snapshots(self.registry)(self.events)
        self.store = with_middleware(self.snapshots)
        self.accounts = AggregateRepository(
            Account,
            self.store,
            clock=SteppingClock(),
            ids=None if seed is None else SeededIds(seed),
        )
