"""Why the PostgreSQL log takes positions from a counter: a tailing reader, measured.

Several writer processes append events, one per transaction, each transaction doing a
little work (``--pause``) between its insert and its commit, as a command does. Beside
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

Run ``python benchmarks/postgres_log_order.py`` (a throwaway cluster is started where
PostgreSQL's binaries are installed) or pass ``--url postgresql://...``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

KINDS = ("counter", "bigserial")
TABLE = "race.events"
SERIAL_TABLE = "race.serial_events"
STREAM = "race.Writer"
POLL_EVERY = 0.001
"""Seconds the reader waits between reads, as a projector polling the log would."""


@dataclass(frozen=True)
class Ticked:
    """The event each writer appends: its number and the count so far."""

    writer: int
    n: int


class RaceResult(NamedTuple):
    kind: str
    events: int
    read_while_tailing: int
    skipped: int
    lost: int
    positions_are_1_to_n: bool
    seconds: float


def _registry():
    from mallbots.es import Registry

    registry = Registry()
    registry.register_event("race.Ticked", Ticked)
    return registry


@contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """A new database on the server of ``url`` for one race, dropped afterwards."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    name = f"mallbots_race_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield make_conninfo(url, dbname=name)
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _prepare(url: str, kind: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE SCHEMA race")
        connection.execute(
            f"CREATE TABLE {SERIAL_TABLE} (position bigserial PRIMARY KEY, writer int, n int)"
        )
    if kind == "counter":
        from mallbots.es.postgres import PostgresDatabase, PostgresEventStore

        with PostgresDatabase.open(url) as database:
            PostgresEventStore(database, _registry(), TABLE)


def write(url: str, kind: str, writer: int, count: int, pause: float, start) -> None:
    """One writer process: ``count`` events, one transaction each, pausing before commit."""
    start.wait()
    if kind == "bigserial":
        import psycopg

        with psycopg.connect(url, autocommit=True) as connection:
            for n in range(1, count + 1):
                with connection.transaction():
                    connection.execute(
                        f"INSERT INTO {SERIAL_TABLE} (writer, n) VALUES (%s, %s)", [writer, n]
                    )
                    time.sleep(pause)
        return
    from mallbots.es import AggregateEvent
    from mallbots.es.postgres import PostgresDatabase, PostgresEventStore

    with PostgresDatabase.open(url) as database:
        store = PostgresEventStore(database, _registry(), TABLE)
        stream_id = f"writer-{writer}"
        for n in range(1, count + 1):
            event = AggregateEvent(
                str(uuid.uuid4()), "race.Ticked", Ticked(writer, n), datetime.now(UTC),
                STREAM, stream_id, n,
            )  # fmt: skip
            with database.transaction():
                store.append(STREAM, stream_id, n - 1, [event])
                time.sleep(pause)


class _Tail:
    """The reader: follows ``position > checkpoint`` and records what it read."""

    def __init__(self, url: str, kind: str) -> None:
        self.kind = kind
        self.read: list[int] = []
        self.checkpoint = 0
        if kind == "counter":
            from mallbots.es.postgres import PostgresDatabase, PostgresLog

            self.database = PostgresDatabase.open(url)
            self.log = PostgresLog(self.database, _registry(), [TABLE])
        else:
            import psycopg

            self.connection = psycopg.connect(url, autocommit=True)

    def poll(self) -> None:
        if self.kind == "counter":
            for batch in self.log.batches(self.checkpoint):
                self.read.extend(event.position for event in batch)
                self.checkpoint = batch[-1].position
            return
        rows = self.connection.execute(
            f"SELECT position FROM {SERIAL_TABLE} WHERE position > %s ORDER BY position",
            [self.checkpoint],
        ).fetchall()
        if rows:
            self.read.extend(position for (position,) in rows)
            self.checkpoint = rows[-1][0]

    def stored(self) -> list[int]:
        table = TABLE if self.kind == "counter" else SERIAL_TABLE
        sql = f"SELECT position FROM {table} ORDER BY position"
        if self.kind == "counter":
            return [p for (p,) in self.database.execute(sql).fetchall()]
        return [p for (p,) in self.connection.execute(sql).fetchall()]

    def close(self) -> None:
        (self.database if self.kind == "counter" else self.connection).close()


def race(
    url: str, kind: str, writers: int = 4, per_writer: int = 250, pause: float = 0.0005
) -> RaceResult:
    """Run ``writers`` processes appending ``per_writer`` events each, with a tailing reader,
    in a scratch database on the server of ``url``."""
    if kind not in KINDS:
        raise ValueError(f"kind is one of {KINDS}, not {kind!r}")
    with scratch_database(url) as scratch:
        return _race(scratch, kind, writers, per_writer, pause)


def _race(url: str, kind: str, writers: int, per_writer: int, pause: float) -> RaceResult:
    _prepare(url, kind)
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    processes = [
        context.Process(target=write, args=(url, kind, w, per_writer, pause, start))
        for w in range(writers)
    ]
    for process in processes:
        process.start()
    tail = _Tail(url, kind)
    try:
        began = time.perf_counter()
        start.set()
        while any(process.is_alive() for process in processes):
            tail.poll()
            time.sleep(POLL_EVERY)
        seconds = time.perf_counter() - began
        failed = [p.exitcode for p in processes if p.exitcode != 0]
        if failed:
            raise RuntimeError(f"{len(failed)} writer processes failed: exit codes {failed}")
        read_while_tailing = len(tail.read)
        tail.poll()  # after the writers: a reader that skipped an event never goes back
        stored = tail.stored()
    finally:
        tail.close()
    expected = writers * per_writer
    return RaceResult(
        kind,
        expected,
        read_while_tailing,
        skipped=len(set(stored) - set(tail.read)),
        lost=expected - len(stored),
        positions_are_1_to_n=stored == list(range(1, expected + 1)),
        seconds=seconds,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a PostgreSQL database (default: a throwaway cluster)")
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--events", type=int, default=1000, help="in all, over the writers")
    parser.add_argument("--pause", type=float, default=0.0005, help="seconds before commit")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    if args.url:
        _report(args.url, args)
        return
    from mallbots.local_postgres import missing, throwaway_cluster

    reason = missing()
    if reason:
        raise SystemExit(f"give --url: cannot start a throwaway PostgreSQL here ({reason})")
    with throwaway_cluster() as cluster, cluster.database() as url:
        _report(url, args)


def _report(url: str, args: argparse.Namespace) -> None:
    print(f"{args.writers} writers, {args.events} events, {args.pause * 1000:g} ms before commit")
    print(f"{'kind':<10} {'skipped':>8} {'lost':>5} {'1..N':>5} {'seconds':>8}")
    for _ in range(args.runs):
        for kind in KINDS:
            result = race(url, kind, args.writers, args.events // args.writers, args.pause)
            print(
                f"{kind:<10} {result.skipped:>8} {result.lost:>5} "
                f"{'yes' if result.positions_are_1_to_n else 'no':>5} {result.seconds:>8.2f}"
            )


if __name__ == "__main__":
    main()
