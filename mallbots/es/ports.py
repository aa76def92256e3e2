"""The storage port: what the event-sourcing core needs from a database.

The core (aggregates, the repository, the middleware chain, the cache, time travel, the
projector's reading of the log) is written against these protocols, not against a
backend. Two backends satisfy them: DuckDB, the embedded default
(:mod:`mallbots.es.duckdb`), and PostgreSQL, a log shared by many processes
(the PostgreSQL store (``es/postgres``)). ``tests/storage/test_ports.py`` checks both.

=======================  =============================================================
protocol                 what it does
=======================  =============================================================
:class:`Transactions`    all-or-nothing blocks, with hooks run on commit or rollback
:class:`EventRecorder`   appends events to streams under optimistic concurrency
:class:`StreamReader`    reads one stream's events, and its version
:class:`LogReader`       reads the global log by position
:class:`EventStorePort`  all three, and the innermost aggregate store
:class:`SnapshotStorage`  reads and writes the snapshot rows of streams
:class:`StreamBatches`    reads many streams at once, for writing snapshots afresh
:class:`Archiving`        moves closed streams out of the hot table, not out of the log
=======================  =============================================================

Typed against these: the repository and middleware (``aggregate_store``, ``chain``), the
cache (``cache``), the snapshot logic (``snapshots``), time travel's stream sources
(``time_travel.StreamSource``). Rows of events are made by :mod:`mallbots.es.event_rows`
for both backends.

Checkpoints are not a port of their own: they live with the read models they describe,
in the read side's DuckDB (:mod:`mallbots.es.projector`), and move in its transactions;
the projector, the read models, lifetimes and set-based rebuilds are the read side,
which stays on DuckDB by design (issue 20), reading a log that may come from either
backend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

from mallbots.es.aggregate import Aggregate
from mallbots.es.event_rows import StreamAppend
from mallbots.es.events import AggregateEvent
from mallbots.es.registry import Registry


@runtime_checkable
class Transactions(Protocol):
    """All-or-nothing blocks on one database; nested blocks join the outermost one."""

    @property
    def in_transaction(self) -> bool:
        """Whether this thread is inside a transaction."""
        ...

    def transaction(self) -> AbstractContextManager[Any]:
        """A block that commits at its end, or rolls back if it raises."""
        ...

    def after_commit(
        self, hook: Callable[[], None], on_rollback: Callable[[], None] | None = None
    ) -> None:
        """Run ``hook`` once the transaction commits (at once outside one)."""
        ...

    def on_rollback(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` if the transaction rolls back."""
        ...


@runtime_checkable
class EventRecorder(Protocol):
    """Appends events to streams, each append expecting the stream's current version."""

    def append(
        self,
        stream_name: str,
        stream_id: str,
        expected_version: int,
        events: Sequence[AggregateEvent],
        *,
        aggregate_id: str | None = None,
    ) -> list[AggregateEvent]:
        """Append to one stream; the events as stored (with positions)."""
        ...

    def append_many(self, appends: Sequence[StreamAppend]) -> int:
        """Append to many streams, all or nothing; how many events were written."""
        ...


@runtime_checkable
class StreamReader(Protocol):
    """Reads one stream: its events in order, and its stored version."""

    def load_stream(
        self,
        stream_name: str,
        stream_id: str,
        after_version: int = 0,
        to_version: int | None = None,
    ) -> list[AggregateEvent]:
        """The stream's events after ``after_version`` (up to ``to_version``)."""
        ...

    def stream_version(self, stream_name: str, stream_id: str) -> int:
        """The stored version of the stream (0 if it has none)."""
        ...


@runtime_checkable
class LogReader(Protocol):
    """Reads the global log: every event, in position order."""

    def read_log(
        self, after_position: int = 0, batch_size: int = 1000
    ) -> Iterator[list[AggregateEvent]]:
        """The events after ``after_position``, in batches."""
        ...


@runtime_checkable
class EventStorePort(EventRecorder, StreamReader, LogReader, Protocol):
    """An event store: records and reads events, and is the innermost aggregate store."""

    table: str
    database: Any  # a Transactions; its backend's connections besides

    def load(self, aggregate: Aggregate) -> None:
        """Replay the aggregate's stored events after its current version."""
        ...

    def save(self, aggregate: Aggregate) -> list[AggregateEvent]:
        """Append the aggregate's pending events, expecting its stored version."""
        ...


class UnreadableSnapshotError(Exception):
    """The backend could not read a stream's snapshot (a damaged block, say)."""


@runtime_checkable
class SnapshotStorage(Protocol):
    """Where snapshot rows are kept: one row a stream (see :mod:`mallbots.es.snapshots`).

    A row is ``[stream_id, stream_name, version, snapshot_name, snapshot_data,
    taken_at]``; a stored snapshot comes back as ``(version, snapshot_name, data)``.
    """

    table: str

    def read(self, stream_name: str, stream_id: str) -> tuple[int, str, str] | None:
        """The stored snapshot of a stream, or None."""
        ...

    def read_for_load(self, stream_name: str, stream_id: str) -> tuple[int, str, str] | None:
        """As :meth:`read`, for a load: a read that fails raises
        :class:`UnreadableSnapshotError` without harming the caller's transaction."""
        ...

    def write_row(self, row: list) -> None:
        """Insert or replace one stream's snapshot row."""
        ...

    def write_rows(self, rows: list[list]) -> None:
        """Insert or replace many streams' rows (one each) at once."""
        ...

    def recreate_table(self) -> None:
        """Empty the table, in the caller's transaction (DuckDB drops and creates it)."""
        ...

    def where(self) -> tuple[str, str]:
        """Where the snapshots are, for a person, and the command that writes them afresh."""
        ...


@runtime_checkable
class StreamBatches(Protocol):
    """Reads many streams of one type at once: what writing the snapshots afresh needs
    (:func:`mallbots.es.snapshot_rebuild.rebuild_snapshots`) from an event store."""

    registry: Registry

    def stream_ids_at_least(self, stream_name: str, least_version: int) -> list[str]:
        """The ids of the streams named ``stream_name`` with at least ``least_version``
        events, sorted."""
        ...

    def streams_columns(self, stream_name: str, stream_ids: Sequence[str]) -> list[list]:
        """The events of these streams as columns (those of
        :data:`~mallbots.es.decoding.EVENT_COLUMNS`), stream by stream, in version order."""
        ...


@runtime_checkable
class Archiving(Protocol):
    """Moves whole streams to the event table's archive (``<table>_archive``), which the
    global log still reads."""

    archive_table: str

    def archive(self, streams: Iterable[tuple[str, str]]) -> int:
        """Move these streams ``(stream_name, stream_id)``, in one transaction; how many
        events moved."""
        ...
