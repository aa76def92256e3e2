"""The projector runs projections from the global log, each with a checkpoint.

A checkpoint is the last log position a projection has taken into account. It lives in
DuckDB (``projections.checkpoints``) and moves in the same transaction as the read model
it describes, so a crash or a restart never applies an event twice or skips one.

Three ways to run a projection, all through the same handlers (its writer):

- **inline**: subscribed to the dispatcher, it applies each event as it is saved (the
  book's handlers). Events that arrive out of order (two threads saving at once) or
  after a gap make it catch up from the log instead, so it still sees each event once.
- **catch-up**: read the log from the checkpoint in batches until current.
- **rebuild**: empty the read model, reset the checkpoint, catch up from position 0;
  or, for a projection that offers it, ``rebuild(set_based=True)``: one SQL pass over the
  log, written in one transaction with the checkpoint moved to the head it read.

Every projector of one read model on one :class:`Database` shares its position in
memory, as they share its checkpoint row: two apps opened on the same file in one process
(a notebook cell run twice) then take turns saving without replaying each other's events.

A catch-up commits every ``commit_every`` events, or sooner once ``commit_rows`` rows
wait to be written (and at the end), so a crash loses at most that much work, memory
stays bounded, and a restart resumes from the last commit. It pauses Python's
cyclic garbage collector meanwhile: decoding creates objects by the hundred thousand,
none in cycles, and the collector would otherwise walk the heap again and again for
nothing (a quarter of the time of a catch-up, measured).
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pandas as pd

from mallbots.es.duckdb.database import Database
from mallbots.es.events import AggregateEvent
from mallbots.es.gc_pause import collector_paused
from mallbots.es.global_log import GlobalLog
from mallbots.es.projection import Projection

CHECKPOINTS = "projections.checkpoints"


@dataclass
class _Checkpoint:
    """A projection's position in memory, mirroring its row of the checkpoint table."""

    position: int  # every event up to here has been taken into account


_SHARED: weakref.WeakKeyDictionary[Database, dict[str, _Checkpoint]] = weakref.WeakKeyDictionary()
"""Each database's checkpoints in memory, by projection name (used under its write lock)."""


@dataclass
class _Entry:
    projection: Projection
    inline: bool
    checkpoint: _Checkpoint

    @property
    def position(self) -> int:
        return self.checkpoint.position

    @position.setter
    def position(self, position: int) -> None:
        self.checkpoint.position = position


class Projector:
    """Keeps a set of projections up to date with the log, each behind its checkpoint."""

    def __init__(
        self,
        database: Database,
        log: GlobalLog,
        batch_size: int = 10_000,
        commit_every: int = 1_000_000,
        commit_rows: int = 100_000,
    ) -> None:
        self.database = database
        self.log = log
        self.batch_size = batch_size
        self.commit_every = commit_every
        self.commit_rows = commit_rows
        self._entries: dict[str, _Entry] = {}
        self._rollback_guarded = False
        self._paused = False
        # The database's own write lock, not one of ours: one lock, one order, no deadlock
        # when a handler runs inside a caller's transaction.
        self._lock = database.write_lock
        with database.writing() as cursor:
            cursor.execute("CREATE SCHEMA IF NOT EXISTS projections")
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {CHECKPOINTS} "
                "(name VARCHAR PRIMARY KEY, position BIGINT NOT NULL)"
            )

    # --- registering ---------------------------------------------------------------------------

    def add(self, projection: Projection, *, inline: bool = True) -> Projection:
        """Register a projection (creating its tables); ``inline`` applies events on save."""
        if projection.name in self._entries:
            raise ValueError(f"a projection named {projection.name!r} is already registered")
        with self.database.transaction() as cursor:
            projection.setup(cursor)
            cursor.execute(
                f"INSERT INTO {CHECKPOINTS} VALUES ($1, 0) ON CONFLICT DO NOTHING",
                [projection.name],
            )
            position = self._stored_position(projection.name)
            checkpoint = _SHARED.setdefault(self.database, {}).setdefault(
                projection.name, _Checkpoint(position)
            )
            checkpoint.position = position
            # inside a caller's transaction that rolls back, its tables and checkpoint row
            # go with it, and so does its registration
            self.database.on_rollback(lambda: self._entries.pop(projection.name, None))
        self._entries[projection.name] = _Entry(projection, inline, checkpoint)
        return projection

    def __getitem__(self, name: str) -> Projection:
        return self._entry(name).projection

    def __iter__(self):
        return iter(entry.projection for entry in self._entries.values())

    def _entry(self, name: str) -> _Entry:
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(self._entries) or "none"
            raise KeyError(f"no projection named {name!r} (registered: {known})") from None

    def _stored_position(self, name: str) -> int:
        return self.database.execute(
            f"SELECT position FROM {CHECKPOINTS} WHERE name = $1", [name]
        ).fetchall()[0][0]

    def position(self, name: str) -> int:
        """How far a projection has taken the log into account."""
        return self._entry(name).position

    # --- inline ----------------------------------------------------------------------------------

    def handle(self, event: AggregateEvent) -> None:
        """Take one saved event into account in every inline projection.

        Subscribe this to the dispatcher for all events: positions of events a projection
        ignores still move its position, so a gap means "something was missed".
        """
        if self._paused:
            return
        if event.position is None:
            raise ValueError(f"{event.name} has no position: only stored events are projected")
        with self._lock:
            self._guard_rollback()
            for entry in self._entries.values():
                if not entry.inline or event.position <= entry.position:
                    continue
                if event.position == entry.position + 1:
                    if event.name in entry.projection.handles:
                        self._apply(entry, [event], event.position)
                    else:
                        entry.position = event.position
                else:
                    self._catch_up(entry)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Inline projections skip the events published meanwhile (a bulk load, whose
        events have no position until written); catch up or rebuild afterwards."""
        self._paused = True
        try:
            yield
        finally:
            self._paused = False

    # --- catch-up and rebuild --------------------------------------------------------------------

    def catch_up(
        self,
        names: Iterable[str] | None = None,
        *,
        max_batches: int | None = None,
        window: int | None = None,
    ) -> int:
        """Bring projections (all by default) up to the log's head; returns events applied.

        ``max_batches`` stops early, as a crash between batches would. ``window`` reads
        that many positions a batch instead of ``batch_size``: after a bulk load, a
        projection that handles a few kinds of events reads them in one go.
        """
        with self._lock:
            return sum(
                self._catch_up(entry, max_batches, window) for entry in self._selected(names)
            )

    def build_unseen(self) -> int:
        """Build by SQL every set-based read model that has taken in nothing yet (a mall
        loaded in bulk, a student joining a busy one): far faster than replaying the log
        into them. Returns the events taken into account; :meth:`catch_up` does the rest.
        """
        unseen = [p.name for p in self if p.set_based and self.position(p.name) == 0]
        return self.rebuild(unseen, set_based=True) if unseen else 0

    def rebuild(self, names: Iterable[str] | None = None, *, set_based: bool = False) -> int:
        """Empty read models, reset their checkpoints and replay the whole log.

        All in one transaction: a rebuild that fails (a damaged event, a handler's bug)
        leaves the read models and checkpoints as they were. With ``set_based``, each
        read model is instead rebuilt by its own SQL over the whole log
        (:meth:`Projection.rebuild_set_based`) in one transaction, and its checkpoint
        moves to the head that SQL read. Returns the events taken into account.
        """
        with self._lock:
            entries = self._selected(names)
            if set_based:
                unable = [
                    entry.projection.name for entry in entries if not entry.projection.set_based
                ]
                if unable:
                    raise ValueError(f"no set-based rebuild for: {', '.join(unable)}")
                return sum(self._rebuild_set_based(entry) for entry in entries)
            applied = 0
            with self.database.transaction() as cursor:  # the catch-ups' commits join it
                self._guard_rollback()  # before any position moves
                for entry in entries:
                    entry.projection.reset(cursor)
                    self._write_checkpoint(entry.projection.name, 0)
                    entry.position = 0
                    applied += self._catch_up(entry)
            return applied

    def _rebuild_set_based(self, entry: _Entry) -> int:
        projection = entry.projection
        with self.database.transaction() as cursor:
            head = self.log.head()
            events = self.log.relation(up_to=head, names=projection.handles)
            projection.reset(cursor)
            projection.rebuild_set_based(cursor, events)
            (count,) = cursor.execute(f"SELECT count(*) FROM ({events})").fetchone()
            self._write_checkpoint(projection.name, head)
        entry.position = head
        return count

    def _selected(self, names: Iterable[str] | None) -> list[_Entry]:
        if names is None:
            return list(self._entries.values())
        if isinstance(names, str):
            names = [names]
        return [self._entry(name) for name in names]

    def _catch_up(
        self, entry: _Entry, max_batches: int | None = None, window: int | None = None
    ) -> int:
        """Apply the log from the checkpoint, committing now and then (see the module)."""
        width = window or self.batch_size
        windows = self.log.windows(entry.position, width, names=entry.projection.handles)
        if max_batches is not None:
            windows = itertools.islice(windows, max_batches)
        # One writer for the whole catch-up: rows it has read stay valid between commits,
        # since every writer of this database waits for the lock held here.
        writer = entry.projection.writer(self.database.cursor())
        applied = 0
        with collector_paused():
            window = next(windows, None)
            while window is not None:
                with self.database.transaction():
                    taken = 0
                    while (
                        window is not None
                        and taken < self.commit_every
                        and writer.pending < self.commit_rows
                    ):
                        upper, events = window
                        writer.apply(events)
                        taken += len(events)
                        window = next(windows, None)
                    writer.flush()
                    self._write_checkpoint(entry.projection.name, upper)
                    self._guard_rollback()
                entry.position = upper
                applied += taken
        return applied

    def _apply(self, entry: _Entry, events: list[AggregateEvent], upper: int) -> None:
        """Apply events and move the checkpoint to ``upper``, in one transaction."""
        with self.database.transaction() as cursor:
            if events:
                entry.projection.apply(cursor, events)
            self._write_checkpoint(entry.projection.name, upper)
            self._guard_rollback()
        entry.position = upper

    def _guard_rollback(self) -> None:
        """Inside a caller's transaction, undo in-memory positions if it rolls back.

        A command may save events, have them projected inline, and then fail: its
        transaction rolls back the events, the read model rows and the checkpoints, and the
        database hands the same positions out again. The positions held in memory must go
        back too, or the next events would be taken for ones already seen.
        """
        if self._rollback_guarded or not self.database.in_transaction:
            return
        self._rollback_guarded = True
        before = {name: entry.position for name, entry in self._entries.items()}
        self.database.after_commit(
            self._end_guard, on_rollback=lambda: self._restore_positions(before)
        )

    def _end_guard(self) -> None:
        self._rollback_guarded = False

    def _restore_positions(self, before: dict[str, int]) -> None:
        """Put back the positions held when the transaction first reached this projector.

        Not the stored checkpoints: a projection passed by events it does not handle
        moves on in memory only, and would otherwise fall back and catch up for nothing.
        A projection added since goes with the transaction (see :meth:`add`).
        """
        self._rollback_guarded = False
        for name, entry in self._entries.items():
            if name in before:
                entry.position = before[name]

    def _write_checkpoint(self, name: str, position: int) -> None:
        self.database.execute(
            f"UPDATE {CHECKPOINTS} SET position = $2 WHERE name = $1", [name, position]
        )

    # --- status ----------------------------------------------------------------------------------

    def status(self) -> pd.DataFrame:
        """Each projection's position, the log's head and how far behind it is."""
        head = self.log.head()
        rows = [
            {
                "projection": name,
                "mode": "inline" if entry.inline else "catch-up",
                "position": entry.position,
                "head": head,
                "lag": head - entry.position,
            }
            for name, entry in self._entries.items()
        ]
        return pd.DataFrame(rows, columns=["projection", "mode", "position", "head", "lag"])
