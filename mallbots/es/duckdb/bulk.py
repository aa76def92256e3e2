"""Bulk saves: many aggregates' events written in large batches, for loading big logs.

A save through the repository is its own transaction with a statement or two, about a
millisecond each on DuckDB. A load of a million events cannot go that way. A
:class:`BulkWriter` takes the same saves (each aggregate's pending events at its
version, and a snapshot when the strategy asks for one) and keeps them until a batch
is full. Then one transaction writes them: positions in the order the saves were made,
across every event table, one columnar INSERT per table, and one statement per
snapshot table for the newest snapshot of each stream.

What it does not do is publish: no handler sees the events as they are saved, so read
models are brought up to date afterwards from the log (``Projector.catch_up``).

While a writer is open, DuckDB's checkpoints wait: by default DuckDB checkpoints
whenever its write-ahead log passes 16 MB, so every batch's commit would rewrite the
growing indexes of the event tables (a third of a million-event load, measured).
:meth:`BulkWriter.close` puts the threshold back and checkpoints once.

With ``background=True`` a full batch is written by a worker thread while the caller
goes on recording the next one: DuckDB works without holding Python's lock, so on a
machine with two cores the INSERT costs little wall-clock time. At most one batch is
being written at a time; an error in it is raised by the next ``save`` or ``flush``.
Until it closes, such a writer also limits DuckDB to one thread, the worker's: the
caller's Python needs a core of its own, and DuckDB's helper threads would compete for
it (on two cores, a million-event simulation took 1.6 s longer and 3 s more CPU with
them, medians of six alternating runs).

A batch is cut only between commands: saves made inside :meth:`BulkWriter.command`
wait for the command to end, so a command's events and everything it caused (in
other modules' events, and in the rows of the :class:`RowSource` s the writer carries)
commit together or not at all. :class:`BulkStore` puts the writer into a module's
store chain as an identity map, so the modules' own application services run on it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, Protocol

import duckdb

from mallbots.es.aggregate import Aggregate
from mallbots.es.aggregate_store import AggregateStore
from mallbots.es.duckdb.database import Database
from mallbots.es.duckdb.event_store import EventStore
from mallbots.es.duckdb.snapshots import SnapshotStore
from mallbots.es.event_rows import PreparedAppends, StreamAppend
from mallbots.es.events import AggregateEvent

_new_append = tuple.__new__  # a StreamAppend without the keyword-handling constructor

DEFERRED_CHECKPOINTS = "1TB"
"""DuckDB's checkpoint threshold while a bulk writer is open: in effect, never."""

BACKGROUND_DUCKDB_THREADS = "1"
"""DuckDB's threads while a background writer is open: its worker, and no helpers."""


@dataclass(frozen=True)
class BulkTarget:
    """Where one aggregate type's saves go: its event store and snapshot store."""

    events: EventStore
    snapshots: SnapshotStore | None = None


class RowSource(Protocol):
    """Rows other than events that a bulk writer commits with each batch (plain tables)."""

    def take(self) -> Any | None:
        """What changed since the last take, ready to write (None: nothing); caller's thread."""

    def write(self, cursor: duckdb.DuckDBPyConnection, taken: Any) -> None:
        """Write what :meth:`take` returned, inside the batch's transaction."""


@dataclass
class _Batch:
    appends: dict[EventStore, tuple[list[StreamAppend], list[int]]] = field(default_factory=dict)
    """Each event store's appends, with the offset of each one's first event in the batch."""
    snapshots: dict[tuple[str, str], tuple[SnapshotStore, list]] = field(default_factory=dict)
    """The newest snapshot row of each stream saved in the batch, with its store."""
    events: int = 0


@dataclass
class _Prepared:
    events: int
    events_by_store: list[tuple[EventStore, PreparedAppends]]
    snapshot_rows: list[tuple[SnapshotStore, list[list]]]
    rows: list[tuple[RowSource, Any]] = field(default_factory=list)


class BulkWriter:
    """Saves aggregates like a repository does, writing them a batch at a time."""

    def __init__(
        self,
        database: Database,
        targets: Mapping[str, BulkTarget],
        batch_size: int = 50_000,
        *,
        background: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError("a batch holds at least one event")
        self.database = database
        self.targets = dict(targets)
        self.batch_size = batch_size
        self.written = 0
        self._batch = _Batch()
        self._settings = ExitStack()  # put back on close
        self._settings.enter_context(database.setting("checkpoint_threshold", DEFERRED_CHECKPOINTS))
        if background:
            self._settings.enter_context(database.setting("threads", BACKGROUND_DUCKDB_THREADS))
        self._worker = ThreadPoolExecutor(1, "bulk-writer") if background else None
        self._writing: Future[int] | None = None
        self._in_flight = 0
        self._commands = 0  # commands open: no batch is cut while one runs
        self._command = _Command(self)
        self.row_sources: list[RowSource] = []
        """Plain tables whose rows commit with each batch (see :class:`RowSource`)."""
        self.on_hand_over: list[Callable[[], None]] = []
        """Called each time a batch leaves for the database."""

    @property
    def pending(self) -> int:
        """Events saved but not yet written."""
        return self._batch.events + self._in_flight

    def command(self) -> _Command:
        """One command: the batch is not cut before it ends (nested uses join it).

        A command that fails leaves its saves in the batch: :meth:`discard` it then.
        """
        return self._command

    def save(self, aggregate: Aggregate) -> tuple[AggregateEvent, ...]:
        """Take the aggregate's pending events (and its snapshot, if due); commit them.

        The aggregate moves on to its new version at once, as after a repository save;
        the rows reach the database when the batch is full (and no command is open) or
        on :meth:`flush`. Returns the events taken.
        """
        events = aggregate.events
        if not events:
            return events
        target = self.targets[aggregate.NAME]
        batch = self._batch
        append = _new_append(
            StreamAppend,
            (aggregate.NAME, aggregate.stream_id, aggregate.version, events, aggregate.id),
        )
        appends = batch.appends.get(target.events)
        if appends is None:
            appends = batch.appends[target.events] = ([], [])
        appends[0].append(append)
        appends[1].append(batch.events)
        batch.events += len(events)
        snapshots = target.snapshots
        if snapshots is not None and snapshots.strategy(aggregate):
            # Serialized now: the aggregate's next commands may change what it captured.
            key = (aggregate.NAME, aggregate.stream_id)
            batch.snapshots[key] = (snapshots, snapshots.row(snapshots.capture(aggregate)))
        aggregate.commit_events()
        if batch.events >= self.batch_size and not self._commands:
            self._hand_over()
        return events

    def flush(self) -> int:
        """Write everything saved so far; returns how many events that was."""
        pending = self.pending
        self._hand_over()
        self._wait()
        return pending

    def discard(self) -> int:
        """Drop the saves not yet handed over (a failed run), then close; returns how many.

        Batches already handed over are written, as committed work.
        """
        dropped = self._batch.events
        self._batch = _Batch()
        for source in self.row_sources:
            source.take()  # dropped with the events they went with
        self.close()
        return dropped

    def close(self) -> None:
        """Write everything saved so far, stop the worker thread (if any), checkpoint."""
        try:
            self.flush()
        finally:
            if self._worker is not None:
                self._worker.shutdown()
            self._settings.close()
        self.database.execute("CHECKPOINT")

    def _hand_over(self) -> None:
        """Write the batch: here, or on the worker once it has written the one before.

        The batch is serialized here either way, so the worker only runs DuckDB.
        """
        batch, self._batch = self._batch, _Batch()
        rows = [(source, taken) for source in self.row_sources if (taken := source.take())]
        if not batch.events and not rows:
            return
        prepared = self._prepare(batch)
        prepared.rows = rows
        if self._worker is None:
            self.written += self._write(prepared)
        else:
            self._wait()
            self._in_flight = batch.events
            self._writing = self._worker.submit(self._write, prepared)
        for handed_over in self.on_hand_over:
            handed_over()

    def wait(self) -> None:
        """Wait until the batch being written (if any) is in the database."""
        self._wait()

    def _wait(self) -> None:
        if self._writing is not None:
            writing, self._writing = self._writing, None
            try:
                self.written += writing.result()
            finally:
                self._in_flight = 0

    def _prepare(self, batch: _Batch) -> _Prepared:
        """Rows for each table, each event at its offset in the batch; snapshot rows."""
        taken: dict[int, tuple[SnapshotStore, list[list]]] = {}
        for store, row in batch.snapshots.values():
            taken.setdefault(id(store), (store, []))[1].append(row)
        return _Prepared(
            batch.events,
            [
                (store, store.prepare(appends, offsets))
                for store, (appends, offsets) in batch.appends.items()
            ],
            list(taken.values()),
        )

    def _write(self, prepared: _Prepared) -> int:
        """One transaction: positions in the order of saves, a columnar INSERT per table."""
        with self.database.transaction() as cursor:
            if prepared.events:
                first = self.database.log_book.claim_positions(prepared.events)
                for store, rows in prepared.events_by_store:
                    store.append_prepared(rows, first=first)
            for snapshots, rows in prepared.snapshot_rows:
                snapshots.write_rows(rows)
            for source, taken in prepared.rows:
                source.write(cursor, taken)
        return prepared.events


class _Command:
    """The context manager of :meth:`BulkWriter.command` (a class: entered per command,
    it costs a third of what a generator-based one does)."""

    __slots__ = ("writer",)

    def __init__(self, writer: BulkWriter) -> None:
        self.writer = writer

    def __enter__(self) -> None:
        self.writer._commands += 1

    def __exit__(self, *exc_info: object) -> None:
        writer = self.writer
        writer._commands -= 1
        batch_full = writer._batch.events >= writer.batch_size
        if batch_full and exc_info[0] is None and not writer._commands:
            writer._hand_over()


class BulkStore:
    """An identity map over a bulk writer, in a module's store chain.

    A load hands out the state this store last saw saved (or, for an aggregate it has
    not seen, what ``inner`` loads; nothing at all, without a query, when the event
    table was empty as the store began); a save gives the events to the writer, which
    returns them for the middleware above it (the publisher) to hand on. An aggregate
    whose last event ends its life (its type's ``LIFETIME.ends``) is let go once its
    batch is handed over; a later load waits for that batch and reads it back.
    """

    def __init__(self, writer: BulkWriter, inner: AggregateStore, events: EventStore) -> None:
        self.writer = writer
        self.inner = inner
        self._held: dict[tuple[str, str], Aggregate] = {}
        self._ended: list[tuple[str, str]] = []  # let go at the next hand-over
        self._let_go: set[tuple[str, str]] = set()
        (rows,) = events.database.execute(f"SELECT count(*) FROM {events.table}").fetchone()
        self._fresh = rows == 0
        writer.on_hand_over.append(self._forget_ended)

    def load(self, aggregate: Aggregate) -> None:
        key = (aggregate.NAME, aggregate.id)
        held = self._held.get(key)
        if held is not None:
            vars(aggregate).update(vars(held))
        elif not self._fresh or key in self._let_go:
            self.writer.wait()
            self.inner.load(aggregate)

    def save(self, aggregate: Aggregate) -> list[AggregateEvent]:
        events = self.writer.save(aggregate)
        key = (aggregate.NAME, aggregate.id)
        self._held[key] = aggregate
        lifetime = getattr(aggregate, "LIFETIME", None)
        if events and lifetime is not None and events[-1].name in lifetime.ends:
            self._ended.append(key)
        return list(events)

    def _forget_ended(self) -> None:
        held = self._held
        for key in self._ended:
            held.pop(key, None)
            self._let_go.add(key)
        self._ended.clear()
