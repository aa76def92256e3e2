"""The stores a module's event sourcing gets on PostgreSQL (see :mod:`mallbots.monolith`).

Events, snapshots and continuations on the server, made as the monolith asks for them
on DuckDB: the same tables, names and behaviour, shared by every process of the mall.
"""

from __future__ import annotations

from mallbots.es.postgres.continuations import PostgresContinuations
from mallbots.es.postgres.database import PostgresDatabase
from mallbots.es.postgres.event_store import PostgresEventStore
from mallbots.es.postgres.snapshots import PostgresSnapshotStore
from mallbots.es.registry import Registry
from mallbots.es.snapshots import SnapshotStrategy


class PostgresStorage:
    """Makes a module's event store, snapshot store and continuations on one server."""

    shared = True

    def __init__(self, database: PostgresDatabase) -> None:
        self.database = database

    def event_store(self, registry: Registry, table: str) -> PostgresEventStore:
        return PostgresEventStore(self.database, registry, table)

    def snapshot_store(
        self,
        events: PostgresEventStore,
        registry: Registry,
        table: str,
        strategy: SnapshotStrategy,
    ) -> PostgresSnapshotStore:
        return PostgresSnapshotStore(events, self.database, registry, table, strategy, tracked=True)

    def continuations(self, table: str) -> PostgresContinuations:
        return PostgresContinuations(self.database, table)
