"""Snapshots on PostgreSQL, written in the same transaction as the events they cover.

The backend-neutral :class:`mallbots.es.snapshots.SnapshotMiddleware` (when to
snapshot, capturing, serializing, restoring and ignoring a snapshot that no longer fits)
with the book's ``snapshots`` table on the server. A snapshot is upserted by its
stream's key. Around the PostgreSQL event store, a save with a snapshot is one
statement: the append's, which upserts the snapshot only if it wrote the events
(see :mod:`mallbots.es.postgres.append_statement`); so it is one round trip where
``BEGIN``, the append, the upsert and ``COMMIT`` were four. A load is one query too:
the snapshot row and the events after it, joined on the stream's key.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from mallbots.es.aggregate import Aggregate
from mallbots.es.aggregate_store import AggregateStore, Middleware
from mallbots.es.events import AggregateEvent
from mallbots.es.postgres.append_statement import SNAPSHOT_ON_CONFLICT
from mallbots.es.postgres.database import PostgresDatabase, shown_url
from mallbots.es.postgres.event_store import PostgresEventStore
from mallbots.es.postgres.schema import snapshot_table_sql
from mallbots.es.postgres.stream_reads import storable_stream
from mallbots.es.registry import Registry
from mallbots.es.snapshots import SNAPSHOT_COLUMNS, SnapshotMiddleware, SnapshotStrategy


class PostgresSnapshotStore(SnapshotMiddleware):
    """Middleware: restores from and writes snapshots around the wrapped store.

    ``tracked``: the server notes each snapshot written, for a shop's read side to copy
    (:mod:`mallbots.es.postgres.changes`; a shop's stores are tracked). A row trigger, it
    costs a save with a snapshot about 67 us, which a store no read side copies need
    not pay.
    """

    database: PostgresDatabase

    def __init__(
        self,
        inner: AggregateStore,
        database: PostgresDatabase,
        registry: Registry,
        table: str = "snapshots",
        strategy: SnapshotStrategy | None = None,
        *,
        tracked: bool = False,
    ) -> None:
        self.tracked = tracked
        super().__init__(inner, database, registry, table, strategy)

    def _prepare_table(self) -> None:
        self.database.create(snapshot_table_sql(self.table, self.tracked))
        self._upsert = (
            f"INSERT INTO {self.table} ({SNAPSHOT_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s) "
            + SNAPSHOT_ON_CONFLICT
        )

    def load(self, aggregate: Aggregate) -> None:
        """Restore the snapshot and replay the events after it, read in one query."""
        inner = self.inner
        key = (aggregate.NAME, aggregate.stream_id)
        if aggregate.version or not isinstance(inner, PostgresEventStore) or key in self.unreadable:
            super().load(aggregate)
            return
        stored, events = inner.snapshot_and_stream(self.table, *key)
        self._restore_stored(aggregate, stored)
        if stored is not None and aggregate.version != stored[0]:  # the snapshot was refused
            inner.load(aggregate)  # so replay every event, as on DuckDB
            return
        for event in events:
            aggregate.load_event(event)

    def save(self, aggregate: Aggregate) -> list[AggregateEvent]:
        """Save the pending events, with a snapshot in their statement if one is due."""
        inner = self.inner
        if not isinstance(inner, PostgresEventStore):
            return super().save(aggregate)
        if (
            not aggregate.events
            or not self.strategy(aggregate)
            or (aggregate.NAME, aggregate.stream_id) in self.unreadable
        ):
            return inner.save(aggregate)
        return inner.save(
            aggregate, snapshot=(self.table, lambda: self.row(self.capture(aggregate)))
        )

    def write_row(self, row: list) -> None:
        """Insert or replace one stream's snapshot row."""
        self.write_rows([row])

    def write_rows(self, rows: list[list]) -> None:
        """Write rows made by :meth:`rows` (one per stream) in one transaction."""
        if not rows:
            return
        with self.database.transaction() as cursor:
            cursor.executemany(self._upsert, rows)

    def read(self, stream_name: str, stream_id: str) -> tuple[int, str, str] | None:
        """The stored snapshot of a stream as (version, name, JSON), or None."""
        storable_stream(stream_name, stream_id)
        return self.database.execute(
            f"SELECT stream_version, snapshot_name, snapshot_data FROM {self.table} "
            "WHERE stream_id = %s AND stream_name = %s",
            [stream_id, stream_name],
        ).fetchone()

    def read_for_load(self, stream_name: str, stream_id: str) -> tuple[int, str, str] | None:
        """As :meth:`read`: the server reports no damaged block to fall back from."""
        return self.read(stream_name, stream_id)

    def where(self) -> tuple[str, str]:
        return shown_url(self.database.url), "shop.rebuild_snapshots()"

    def recreate_table(self) -> None:
        """Empty the snapshot table (inside the caller's transaction).

        DELETE, not DROP as on DuckDB (where a damaged block cannot be read to be
        deleted): other processes keep loading while a rebuild runs, and until it
        commits they read the old snapshots, where a dropped table would hold each of
        their loads behind the rebuild's exclusive lock.
        """
        self.database.execute(f"DELETE FROM {self.table}")
        self.unreadable.clear()

    def frame(self) -> pd.DataFrame:
        """Every stored snapshot as a DataFrame."""
        cursor = self.database.execute(
            f"SELECT stream_name, stream_id, stream_version, snapshot_name, snapshot_data, "
            f"updated_at FROM {self.table} ORDER BY stream_name, stream_id"
        )
        return pd.DataFrame(cursor.fetchall(), columns=[c.name for c in cursor.description])


def postgres_snapshots(
    database: PostgresDatabase,
    registry: Registry,
    table: str = "snapshots",
    strategy: SnapshotStrategy | None = None,
    *,
    tracked: bool = False,
) -> Middleware:
    """Middleware that snapshots aggregates by ``strategy`` (every 3 events by default);
    ``tracked`` as for :class:`PostgresSnapshotStore`."""
    wrap: Callable[[AggregateStore], AggregateStore] = lambda inner: PostgresSnapshotStore(  # noqa: E731
        inner, database, registry, table, strategy, tracked=tracked
    )
    return wrap
