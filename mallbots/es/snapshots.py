"""Snapshots: an aggregate's state saved at a version, so a load replays only what came after.

A snapshot is a registered, versioned payload (``stores.StoreV1``). The snapshot store
is middleware around the event store:

- load: read the latest snapshot, restore it, then replay only the newer events;
- save: if the strategy says so, write the snapshot *in the same transaction* as the
  events it covers (the book writes it afterwards, so a crash could leave them apart).

A snapshot that cannot be used (its name is no longer registered, its payload no longer
fits, the aggregate refuses it, or DuckDB cannot read it from a damaged storage block) is
ignored and the aggregate is rebuilt from its events: a snapshot is a cache, the events
are the truth. A warning says so once per table and kind of trouble, not once per load.
Snapshots are read on the thread's side cursor, outside its transaction, so that a
damaged block cannot abort the command that was loading; a stream whose snapshot could
not be read gets no new one until :func:`rebuild_snapshots` writes the table afresh.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import Any, NamedTuple

import duckdb
import pandas as pd

from mallbots.es.aggregate import Aggregate
from mallbots.es.aggregate_store import AggregateStore, Middleware
from mallbots.es.clock import system_clock
from mallbots.es.decoding import EVENT_COLUMNS, STREAM_ID, decode_columns, fetch_columns
from mallbots.es.duckdb.database import Database, checked_identifier, create_schema_of
from mallbots.es.duckdb.event_store import EventStore, checked_stream
from mallbots.es.duckdb.frames import frame_of_rows
from mallbots.es.errors import RegistryError
from mallbots.es.events import AggregateEvent
from mallbots.es.registry import Registry

log = logging.getLogger(__name__)

UNREADABLE = "unreadable"
UNUSABLE = "unusable"
_warned: weakref.WeakKeyDictionary[Database, set[tuple[str, str]]] = weakref.WeakKeyDictionary()
"""(table, kind) said already, per database: one file is one Database in a process."""
_warned_lock = threading.Lock()

SNAPSHOT_COLUMNS = (
    "stream_id, stream_name, stream_version, snapshot_name, snapshot_data, updated_at"
)


class Snapshot(NamedTuple):
    """An aggregate's state captured at a version, ready to be written."""

    stream_id: str
    stream_name: str
    version: int
    payload: Any
    taken_at: datetime


SnapshotStrategy = Callable[[Aggregate], bool]
"""Decides, before a save, whether to snapshot the aggregate at its pending version."""


class EveryNEvents:
    """Snapshot whenever a save crosses a multiple of ``n`` (the book uses 3)."""

    def __init__(self, n: int) -> None:
        if n < 1:
            raise ValueError("a snapshot interval must be at least 1")
        self.n = n

    def __call__(self, aggregate: Aggregate) -> bool:
        return aggregate.pending_version // self.n > aggregate.version // self.n

    def __repr__(self) -> str:
        return f"EveryNEvents({self.n})"


def never(aggregate: Aggregate) -> bool:
    """The strategy that never snapshots."""
    return False


class SnapshotStore:
    """Middleware: restores from and writes snapshots around the wrapped store."""

    def __init__(
        self,
        inner: AggregateStore,
        database: Database,
        registry: Registry,
        table: str = "snapshots",
        strategy: SnapshotStrategy | None = None,
    ) -> None:
        self.inner = inner
        self.database = database
        self.registry = registry
        self.table = checked_identifier(table)
        self.strategy = strategy if strategy is not None else EveryNEvents(3)
        self.unreadable: set[tuple[str, str]] = set()
        """(stream_name, stream_id) of each stream whose snapshot DuckDB could not read."""
        if not database.read_only:
            self._create_table()
        self._select = database.parsed(
            "SELECT stream_name, stream_version, snapshot_name, snapshot_data "
            f"FROM {self.table} WHERE stream_id = $1"
        )
        self._rows_of_id = database.parsed(
            f"SELECT rowid, stream_name FROM {self.table} WHERE stream_id = $1"
        )
        self._insert = database.parsed(
            f"INSERT INTO {self.table} ({SNAPSHOT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
        )
        self._update = database.parsed(
            f"UPDATE {self.table} SET stream_version = $2, snapshot_name = $3, "
            "snapshot_data = $4, updated_at = $5 WHERE rowid = $1"
        )

    def _create_table(self) -> None:
        name = self.table.rpartition(".")[2]
        with self.database.writing() as cursor:
            create_schema_of(cursor, self.table)
            cursor.execute(
                f"""
                CREATE TABLE IF NOT EXISTS {self.table} (
                    stream_id      VARCHAR     NOT NULL,
                    stream_name    VARCHAR     NOT NULL,
                    stream_version INTEGER     NOT NULL,
                    snapshot_name  VARCHAR     NOT NULL,
                    snapshot_data  VARCHAR     NOT NULL,
                    updated_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
                    PRIMARY KEY (stream_id, stream_name)
                )
                """
            )
            # DuckDB looks rows up by an index only for a single equality on its one
            # column, never by this composite key: reads go through the stream id.
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {name}_by_stream ON {self.table} (stream_id)"
            )

    # --- the aggregate store interface -----------------------------------------------------

    def load(self, aggregate: Aggregate) -> None:
        if aggregate.version == 0:
            self._restore(aggregate)
        self.inner.load(aggregate)

    def save(self, aggregate: Aggregate) -> list[AggregateEvent]:
        if not aggregate.events or not self.strategy(aggregate):
            return self.inner.save(aggregate)
        if (aggregate.NAME, aggregate.stream_id) in self.unreadable:  # writing would fail too
            return self.inner.save(aggregate)
        with self.database.transaction():
            events = self.inner.save(aggregate)
            self.write(aggregate)
        return events

    # --- snapshots -------------------------------------------------------------------------

    def write(self, aggregate: Aggregate) -> None:
        """Write the aggregate's current state as its snapshot at its pending version.

        The stream's row is found through the stream index, then inserted or updated in
        place by its rowid. ``INSERT OR REPLACE`` would delete and re-insert it in both
        indexes: 3 to 7 ms a snapshot on a file, where this costs about 1.4 ms (the
        lookup filters by the stream id alone, so DuckDB uses the index; see
        ``event_store``).
        """
        stream_id, stream_name, *values = self.row(self.capture(aggregate))
        with self.database.transaction() as cursor:
            found = cursor.execute(self._rows_of_id, [stream_id]).fetchall()
            rowid = next((rowid for rowid, name in found if name == stream_name), None)
            if rowid is None:
                cursor.execute(self._insert, [stream_id, stream_name, *values])
            else:
                cursor.execute(self._update, [rowid, *values])

    def capture(self, aggregate: Aggregate) -> Snapshot:
        """The aggregate's current state as a snapshot at its pending version (not stored)."""
        # Stamped with the time of the newest event it covers, so it is reproducible.
        pending = aggregate.events
        taken_at = pending[-1].occurred_at if pending else system_clock()
        checked_stream(aggregate.NAME, aggregate.stream_id)
        return Snapshot(
            aggregate.stream_id,
            aggregate.NAME,
            aggregate.pending_version,
            aggregate.to_snapshot(),
            taken_at,
        )

    def write_many(self, snapshots: Iterable[Snapshot]) -> None:
        """Write captured snapshots (one per stream) in one statement."""
        self.write_rows(self.rows(snapshots))

    def rows(self, snapshots: Iterable[Snapshot]) -> list[list]:
        """Captured snapshots serialized into rows, touching no table."""
        return [self.row(snapshot) for snapshot in snapshots]

    def write_rows(self, rows: list[list]) -> None:
        """Write rows made by :meth:`rows` in one statement."""
        if not rows:
            return
        frame = frame_of_rows(rows, SNAPSHOT_COLUMNS.split(", "))  # noqa: F841 (read by SQL)
        self.database.cursor().execute(
            f"INSERT OR REPLACE INTO {self.table} ({SNAPSHOT_COLUMNS}) "
            f"SELECT {SNAPSHOT_COLUMNS} FROM frame"
        )

    def row(self, snapshot: Snapshot) -> list:
        """A captured snapshot serialized into a row for :meth:`write_rows`."""
        name = self.registry.snapshot_name_of(type(snapshot.payload))
        data = self.registry.serialize(name, snapshot.payload)
        return [
            snapshot.stream_id,
            snapshot.stream_name,
            snapshot.version,
            name,
            data,
            snapshot.taken_at,
        ]

    def read(self, stream_name: str, stream_id: str) -> tuple[int, str, str] | None:
        """The stored snapshot of a stream as (version, name, JSON), or None."""
        checked_stream(stream_name, stream_id)
        rows = self.database.execute(self._select, [stream_id]).fetchall()
        for name, *snapshot in rows:  # almost always one row: streams rarely share ids
            if name == stream_name:
                return tuple(snapshot)
        return None

    def _restore(self, aggregate: Aggregate) -> None:
        key = (aggregate.NAME, aggregate.stream_id)
        if key in self.unreadable:
            return
        try:
            stored = self._stored_snapshot(*key)
        except duckdb.InterruptException:
            raise  # Ctrl-C, not a damaged snapshot
        except duckdb.Error as error:
            self.unreadable.add(key)
            self._fall_back(UNREADABLE, aggregate, f"DuckDB could not read it: {error}")
            return
        if stored is None:
            return
        version, name, data = stored
        try:
            snapshot = self.registry.deserialize(name, data)
            aggregate.load_snapshot(snapshot, version)
        except (RegistryError, TypeError, ValueError, RecursionError) as error:
            self._fall_back(UNUSABLE, aggregate, f"{name} at version {version}: {error}")

    def _stored_snapshot(self, stream_name: str, stream_id: str) -> tuple[int, str, str] | None:
        """The stored snapshot for a load, read on a side cursor: a damaged block then
        fails this read alone, not the caller's transaction."""
        rows = self.database.side_cursor().execute(self._select, [stream_id]).fetchall()
        return next((tuple(row) for name, *row in rows if name == stream_name), None)

    def _fall_back(self, kind: str, aggregate: Aggregate, why: str) -> None:
        """Say, once per database, table and kind, that loads replay events instead."""
        with _warned_lock:
            said = _warned.setdefault(self.database, set())
            if (self.table, kind) in said:
                log.debug("snapshot of %s %r not used: %s", aggregate.NAME, aggregate.id, why)
                return
            said.add((self.table, kind))
        where = "memory" if self.database.in_memory else self.database.path
        mend = (
            "shop.rebuild_snapshots()"
            if self.database.in_memory
            else f"mallbots rebuild --snapshots --db {self.database.path}"
        )
        log.warning(
            "the snapshot of %s %r in %s (%s) cannot be used (%s); it and any other snapshot "
            "of this table that fails so are ignored, and the aggregates load from their "
            "events. Said once. To write the snapshots afresh from the events, run: %s",
            aggregate.NAME,
            aggregate.id,
            self.table,
            where,
            " ".join(why.split()),
            mend,
        )

    def recreate_table(self) -> None:
        """Drop the snapshot table and create it empty (inside the caller's transaction).

        DROP, not DELETE: DuckDB deletes by reading every row, which fails on a damaged
        block; a dropped table's blocks are only marked free.
        """
        with self.database.writing() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.table}")
        self._create_table()
        self.unreadable.clear()

    def frame(self) -> pd.DataFrame:
        """Every stored snapshot as a DataFrame."""
        return self.database.execute(
            f"SELECT stream_name, stream_id, stream_version, snapshot_name, snapshot_data, "
            f"updated_at FROM {self.table} ORDER BY stream_name, stream_id"
        ).df()


def rebuild_snapshots(
    store: SnapshotStore,
    events: EventStore,
    aggregate_types: Sequence[type[Aggregate]],
    *,
    batch_size: int = 5000,
) -> int:
    """Drop every snapshot of ``store`` and write fresh ones from ``events``, in one
    transaction; returns how many were written.

    Each stream of the given aggregate types that the strategy would have snapshotted
    (for ``EveryNEvents(n)``, every stream of at least n events; for ``never``, none)
    gets a snapshot at its newest version, stamped with its newest event's time. Streams
    are replayed ``batch_size`` at a time, each batch read in one query and written in
    one statement.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    least = _least_version(store.strategy)
    written = 0
    database = store.database
    table = checked_identifier(events.table)
    select_ids = (
        f"SELECT stream_id FROM {table} WHERE stream_name = $1 "
        "GROUP BY stream_id HAVING max(stream_version) >= $2 ORDER BY stream_id"
    )
    select_events = (
        f"SELECT {EVENT_COLUMNS} FROM {table} WHERE stream_name = $1 "
        "AND stream_id IN (SELECT unnest($2::VARCHAR[])) ORDER BY stream_id, stream_version"
    )
    with database.transaction() as cursor:
        store.recreate_table()
        for aggregate_type in aggregate_types if least is not None else ():
            name = aggregate_type.NAME
            stream_ids = [row[0] for row in cursor.execute(select_ids, [name, least]).fetchall()]
            for start in range(0, len(stream_ids), batch_size):
                chunk = stream_ids[start : start + batch_size]
                columns = fetch_columns(cursor.execute(select_events, [name, chunk]))
                replayed = decode_columns(columns, events.registry)
                by_stream = groupby(zip(columns[STREAM_ID], replayed, strict=True), key=first)
                taken = []
                for stream_id, pairs in by_stream:
                    stream = [event for _, event in pairs]
                    aggregate = aggregate_type(stream[0].aggregate_id)
                    for event in stream:
                        aggregate.load_event(event)
                    taken.append(
                        Snapshot(
                            stream_id,
                            name,
                            aggregate.version,
                            aggregate.to_snapshot(),
                            stream[-1].occurred_at,
                        )
                    )
                store.write_many(taken)
                written += len(taken)
    return written


first = itemgetter(0)


def _least_version(strategy: SnapshotStrategy) -> int | None:
    """The fewest events a stream has before the strategy snapshots it (None: never)."""
    if strategy is never:
        return None
    if isinstance(strategy, EveryNEvents):
        return strategy.n
    return 1


def snapshots(
    database: Database,
    registry: Registry,
    table: str = "snapshots",
    strategy: SnapshotStrategy | None = None,
) -> Middleware:
    """Middleware that snapshots aggregates by ``strategy`` (every 3 events by default)."""
    return lambda inner: SnapshotStore(inner, database, registry, table, strategy)
