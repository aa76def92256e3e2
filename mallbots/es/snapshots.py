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
A stream whose snapshot could not be read gets no new one until the table is written
afresh (:func:`mallbots.es.snapshot_rebuild.rebuild_snapshots`).

This module holds what every backend shares: the strategies, capturing and serializing
a snapshot, restoring it or falling back to the events (:class:`SnapshotMiddleware`).
Where the rows are kept is a backend's: :class:`mallbots.es.duckdb.snapshots.SnapshotStore`
and ``PostgresSnapshotStore`` (``es/postgres``), each a
:class:`~mallbots.es.ports.SnapshotStorage`.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, NamedTuple

from mallbots.es.aggregate import Aggregate
from mallbots.es.aggregate_store import AggregateStore
from mallbots.es.clock import system_clock
from mallbots.es.errors import RegistryError
from mallbots.es.event_rows import checked_stream
from mallbots.es.events import AggregateEvent
from mallbots.es.identifiers import checked_identifier
from mallbots.es.ports import Transactions, UnreadableSnapshotError
from mallbots.es.registry import Registry

log = logging.getLogger(__name__)

UNREADABLE = "unreadable"
UNUSABLE = "unusable"
_warned: weakref.WeakKeyDictionary[Any, set[tuple[str, str]]] = weakref.WeakKeyDictionary()
"""(table, kind) said already, per database: one file is one Database in a process."""
_warned_lock = threading.Lock()

SNAPSHOT_COLUMNS = (
    "stream_id, stream_name, stream_version, snapshot_name, snapshot_data, updated_at"
)
SNAPSHOT_TABLE_COLUMNS = """
    stream_id      TEXT        NOT NULL,
    stream_name    TEXT        NOT NULL,
    stream_version INTEGER     NOT NULL,
    snapshot_name  TEXT        NOT NULL,
    snapshot_data  TEXT        NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (stream_id, stream_name)
"""
"""A snapshot table's columns (the book's), in SQL that DuckDB and PostgreSQL read alike."""


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


class SnapshotMiddleware:
    """Middleware: restores from and writes snapshots around the wrapped store.

    The backend-neutral half of a snapshot store; a subclass keeps the rows (the
    storage methods of :class:`~mallbots.es.ports.SnapshotStorage`).
    """

    def __init__(
        self,
        inner: AggregateStore,
        database: Transactions,
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
        """(stream_name, stream_id) of each stream whose snapshot could not be read."""
        self._prepare_table()

    def _prepare_table(self) -> None:
        """Create the table if need be and prepare its statements (the backend's part)."""
        raise NotImplementedError

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
        """Write the aggregate's current state as its snapshot at its pending version."""
        self.write_row(self.row(self.capture(aggregate)))

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

    def _restore(self, aggregate: Aggregate) -> None:
        key = (aggregate.NAME, aggregate.stream_id)
        if key in self.unreadable:
            return
        try:
            stored = self.read_for_load(*key)
        except UnreadableSnapshotError as error:
            self.unreadable.add(key)
            self._fall_back(UNREADABLE, aggregate, str(error))
            return
        self._restore_stored(aggregate, stored)

    def _restore_stored(self, aggregate: Aggregate, stored: tuple[int, str, str] | None) -> None:
        """Restore a snapshot row read for the aggregate, or say why it cannot be used."""
        if stored is None:
            return
        version, name, data = stored
        try:
            snapshot = self.registry.deserialize(name, data)
            aggregate.load_snapshot(snapshot, version)
        except (RegistryError, TypeError, ValueError, RecursionError) as error:
            self._fall_back(UNUSABLE, aggregate, f"{name} at version {version}: {error}")

    def _fall_back(self, kind: str, aggregate: Aggregate, why: str) -> None:
        """Say, once per database, table and kind, that loads replay events instead."""
        with _warned_lock:
            said = _warned.setdefault(self.database, set())
            if (self.table, kind) in said:
                log.debug("snapshot of %s %r not used: %s", aggregate.NAME, aggregate.id, why)
                return
            said.add((self.table, kind))
        where, mend = self.where()
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

    # --- storage: a backend's (see mallbots.es.ports.SnapshotStorage) -----------------------

    def read(self, stream_name: str, stream_id: str) -> tuple[int, str, str] | None:
        raise NotImplementedError

    def read_for_load(self, stream_name: str, stream_id: str) -> tuple[int, str, str] | None:
        raise NotImplementedError

    def write_row(self, row: list) -> None:
        raise NotImplementedError

    def write_rows(self, rows: list[list]) -> None:
        raise NotImplementedError

    def where(self) -> tuple[str, str]:
        raise NotImplementedError


def least_version(strategy: SnapshotStrategy) -> int | None:
    """The fewest events a stream has before the strategy snapshots it (None: never)."""
    if strategy is never:
        return None
    if isinstance(strategy, EveryNEvents):
        return strategy.n
    return 1
