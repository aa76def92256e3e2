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

With ``background=True`` a full batch is written by a worker thread while the caller
goes on recording the next one: DuckDB works without holding Python's lock, so on a
machine with two cores the INSERT costs little wall-clock time. At most one batch is
being written at a time; an error in it is raised by the next ``save`` or ``flush``.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from mallbots.es.aggregate import Aggregate
from mallbots.es.database import Database
from mallbots.es.event_store import EventStore, StreamAppend
from mallbots.es.snapshots import Snapshot, SnapshotStore


@dataclass(frozen=True)
class BulkTarget:
    """Where one aggregate type's saves go: its event store and snapshot store."""

    events: EventStore
    snapshots: SnapshotStore | None = None


@dataclass
class _Batch:
    appends: list[tuple[BulkTarget, StreamAppend]] = field(default_factory=list)
    snapshots: dict[tuple[str, str], tuple[BulkTarget, Snapshot]] = field(default_factory=dict)
    events: int = 0


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
        self._worker = ThreadPoolExecutor(1, "bulk-writer") if background else None
        self._writing: Future[int] | None = None
        self._in_flight = 0

    @property
    def pending(self) -> int:
        """Events saved but not yet written."""
        return self._batch.events + self._in_flight

    def save(self, aggregate: Aggregate) -> None:
        """Take the aggregate's pending events (and its snapshot, if due); commit them.

        The aggregate moves on to its new version at once, as after a repository save;
        the rows reach the database when the batch is full or on :meth:`flush`.
        """
        events = aggregate.events
        if not events:
            return
        target = self.targets[aggregate.NAME]
        batch = self._batch
        batch.appends.append(
            (target, StreamAppend(aggregate.NAME, aggregate.id, aggregate.version, events))
        )
        batch.events += len(events)
        snapshots = target.snapshots
        if snapshots is not None and snapshots.strategy(aggregate):
            batch.snapshots[(aggregate.NAME, aggregate.id)] = (target, snapshots.capture(aggregate))
        aggregate.commit_events()
        if batch.events >= self.batch_size:
            self._hand_over()

    def flush(self) -> int:
        """Write everything saved so far; returns how many events that was."""
        pending = self.pending
        self._hand_over()
        self._wait()
        return pending

    def close(self) -> None:
        """Write everything saved so far and stop the worker thread (if any)."""
        try:
            self.flush()
        finally:
            if self._worker is not None:
                self._worker.shutdown()

    def _hand_over(self) -> None:
        """Write the batch: here, or on the worker once it has written the one before."""
        batch, self._batch = self._batch, _Batch()
        if not batch.events:
            return
        if self._worker is None:
            self.written += self._write(batch)
            return
        self._wait()
        self._in_flight = batch.events
        self._writing = self._worker.submit(self._write, batch)

    def _wait(self) -> None:
        if self._writing is not None:
            writing, self._writing = self._writing, None
            try:
                self.written += writing.result()
            finally:
                self._in_flight = 0

    def _write(self, batch: _Batch) -> int:
        """One transaction: positions in the order of saves, a columnar INSERT per table."""
        by_target: dict[int, tuple[BulkTarget, list[StreamAppend], list[int]]] = {}
        with self.database.transaction():
            position = self.database.claim_positions(batch.events)
            for target, append in batch.appends:
                _, appends, positions = by_target.setdefault(id(target), (target, [], []))
                appends.append(append)
                positions.extend(range(position, position + len(append.events)))
                position += len(append.events)
            for target, appends, positions in by_target.values():
                target.events.append_many(appends, positions)
            snapshots: dict[int, tuple[SnapshotStore, list[Snapshot]]] = {}
            for target, snapshot in batch.snapshots.values():
                if target.snapshots is not None:
                    snapshots.setdefault(id(target.snapshots), (target.snapshots, []))[1].append(
                        snapshot
                    )
            for store, taken in snapshots.values():
                store.write_many(taken)
        return batch.events
