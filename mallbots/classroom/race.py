"""Why the PostgreSQL log takes positions from a counter: writers racing a tailing reader.

Writers in several processes append events, one per transaction, each transaction doing
a little work between its insert and its commit, as a command does: one, two or three
times ``pause``, in turn, the writers out of step with each other (:func:`work`). As
in a mall, where commands differ, a transaction that took a later position often
finishes its work first; with equal pauses only the scheduler's jitter would reorder
them, and on a quiet machine it sometimes does not. Beside
them a reader follows the log as a projector does: it remembers the highest position it
has read and asks for ``position > checkpoint``. Two ways to hand out positions:

- ``counter``: :class:`mallbots.es.postgres.PostgresEventStore`, whose appends claim
  positions from a one-row counter updated in the appending transaction;
- ``bigserial``: a plain ``bigserial`` column, which hands a position out when the row
  is inserted, not when it commits.

With ``bigserial`` a transaction that took position 7 may commit after the one that
took 8; the reader has then moved its checkpoint past 7 and never reads it: the event
is *skipped*. With the counter, no position is handed out until the transaction before
has committed, so nothing is. Every event is in the table either way (none *lost*).

With ``commit_order=True`` each transaction also takes, as its last statement, a number
from a counter of its own: the order the transactions committed in, to set beside the
positions they took (for the plot in notebook 10). ``benchmarks/postgres_log_order.py``
measures the race without it.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from mallbots.classroom.students import Classroom
from mallbots.local_postgres import scratch_database

KINDS = ("counter", "bigserial")
TABLE = "race.events"
SERIAL_TABLE = "race.serial_events"
COMMITS = "race.commits"
STREAM = "race.Writer"
POLL_EVERY = 0.001
"""Seconds the reader waits between reads, as a projector polling the log would."""


@dataclass(frozen=True)
class Ticked:
    """The event each writer appends: its number and the count so far."""

    writer: int
    n: int


@dataclass(frozen=True)
class RaceResult:
    """What the reader saw of one race."""

    kind: str
    events: int
    read_while_tailing: int
    skipped_positions: tuple[int, ...]
    """Stored positions the tailing reader never read."""
    lost: int
    """Events written but not in the table (none, either way)."""
    positions_are_1_to_n: bool
    seconds: float
    commit_order: tuple[int, ...] = ()
    """The positions in the order their transactions committed (with ``commit_order``)."""

    @property
    def skipped(self) -> int:
        return len(self.skipped_positions)

    @property
    def committed_out_of_order(self) -> int:
        """How many transactions committed after one holding a higher position."""
        highest, late = 0, 0
        for position in self.commit_order:
            late += position < highest
            highest = max(highest, position)
        return late


def _registry():
    from mallbots.es import Registry

    registry = Registry()
    registry.register_event("race.Ticked", Ticked)
    return registry


def _prepare(url: str, kind: str) -> None:
    from mallbots.es.postgres import PostgresDatabase, PostgresEventStore

    with PostgresDatabase.open(url) as database:
        database.execute("CREATE SCHEMA race")
        database.execute(
            f"CREATE TABLE {SERIAL_TABLE} (position bigserial PRIMARY KEY, writer int, n int)"
        )
        database.execute(f"CREATE TABLE {COMMITS} (commit_number bigserial, position bigint)")
        if kind == "counter":
            PostgresEventStore(database, _registry(), TABLE)


_COMMITTED = f"INSERT INTO {COMMITS} (position) VALUES (%s)"
_COMMIT_LOCK = f"LOCK TABLE {COMMITS} IN SHARE ROW EXCLUSIVE MODE"
"""Taken last: one transaction at a time from there to its commit, so that commit
numbers follow the order of the commits."""


WORK_STEPS = (1, 2, 3)
"""How many times ``pause`` a transaction works, in turn."""


def work(pause: float, writer: int, n: int) -> float:
    """Seconds the ``n``-th transaction of ``writer`` works before it commits."""
    return pause * WORK_STEPS[(writer + n) % len(WORK_STEPS)]


def write(url: str, kind: str, writer: int, count: int, pause: float, commit_order: bool) -> int:
    """One writer: ``count`` events, one transaction each, pausing before commit."""
    from mallbots.es import AggregateEvent
    from mallbots.es.postgres import PostgresDatabase, PostgresEventStore

    with PostgresDatabase.open(url) as database:
        store = PostgresEventStore(database, _registry(), TABLE) if kind == "counter" else None
        stream_id = f"writer-{writer}"
        for n in range(1, count + 1):
            with database.transaction():
                if store is None:
                    (position,) = database.execute(
                        f"INSERT INTO {SERIAL_TABLE} (writer, n) VALUES (%s, %s) "
                        "RETURNING position",
                        [writer, n],
                    ).fetchone()
                else:
                    event = AggregateEvent(
                        str(uuid.uuid4()), "race.Ticked", Ticked(writer, n), datetime.now(UTC),
                        STREAM, stream_id, n,
                    )  # fmt: skip
                    (stored,) = store.append(STREAM, stream_id, n - 1, [event])
                    position = stored.position
                time.sleep(work(pause, writer, n))
                if commit_order:
                    database.execute(_COMMIT_LOCK)
                    database.execute(_COMMITTED, [position])
    return count


class _Tail:
    """The reader: follows ``position > checkpoint`` and records what it read."""

    def __init__(self, url: str, kind: str) -> None:
        from mallbots.es.postgres import PostgresDatabase, PostgresLog

        self.kind = kind
        self.read: list[int] = []
        self.checkpoint = 0
        self.database = PostgresDatabase.open(url)
        self.log = PostgresLog(self.database, _registry(), [TABLE]) if kind == "counter" else None

    def poll(self) -> None:
        if self.log is not None:
            for batch in self.log.batches(self.checkpoint):
                self.read.extend(event.position for event in batch)
                self.checkpoint = batch[-1].position
            return
        rows = self.execute(
            f"SELECT position FROM {SERIAL_TABLE} WHERE position > %s ORDER BY position",
            [self.checkpoint],
        )
        if rows:
            self.read.extend(position for (position,) in rows)
            self.checkpoint = rows[-1][0]

    def execute(self, sql: str, parameters: list | None = None) -> list[tuple]:
        return self.database.execute(sql, parameters).fetchall()

    def stored(self) -> list[int]:
        table = TABLE if self.kind == "counter" else SERIAL_TABLE
        return [p for (p,) in self.execute(f"SELECT position FROM {table} ORDER BY position")]

    def commit_order(self) -> tuple[int, ...]:
        rows = self.execute(f"SELECT position FROM {COMMITS} ORDER BY commit_number")
        return tuple(position for (position,) in rows)

    def close(self) -> None:
        self.database.close()


def race(
    url: str,
    kind: str,
    writers: int | Classroom = 4,
    per_writer: int = 250,
    pause: float = 0.0005,
    *,
    commit_order: bool = False,
) -> RaceResult:
    """Writers in ``writers`` processes (a number, or a :class:`Classroom` whose students
    write) append ``per_writer`` events each while a reader here tails the log, in a
    scratch database on the server of ``url``."""
    if kind not in KINDS:
        raise ValueError(f"kind is one of {KINDS}, not {kind!r}")
    with scratch_database(url, "race") as scratch:
        if isinstance(writers, Classroom):
            return _race(scratch, kind, writers, per_writer, pause, commit_order)
        with Classroom.of(writers) as classroom:
            return _race(scratch, kind, classroom, per_writer, pause, commit_order)


def _race(
    url: str, kind: str, classroom: Classroom, per_writer: int, pause: float, commit_order: bool
) -> RaceResult:
    _prepare(url, kind)
    classroom.wait_until_ready()  # so that the writers start together
    tail = _Tail(url, kind)
    try:
        began = time.perf_counter()
        writing = [
            student.submit(write, url, kind, n, per_writer, pause, commit_order)
            for n, student in enumerate(classroom)
        ]
        while not all(future.done() for future in writing):
            tail.poll()
            time.sleep(POLL_EVERY)
        seconds = time.perf_counter() - began
        for future in writing:
            future.result()  # a writer's error, if any
        read_while_tailing = len(tail.read)
        tail.poll()  # after the writers: a reader that skipped an event never goes back
        stored = tail.stored()
        order = tail.commit_order() if commit_order else ()
    finally:
        tail.close()
    expected = len(classroom) * per_writer
    return RaceResult(
        kind,
        expected,
        read_while_tailing,
        skipped_positions=tuple(sorted(set(stored) - set(tail.read))),
        lost=expected - len(stored),
        positions_are_1_to_n=stored == list(range(1, expected + 1)),
        seconds=seconds,
        commit_order=order,
    )
