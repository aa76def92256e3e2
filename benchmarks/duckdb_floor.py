"""DuckDB's floor: plain inserts, autocommitted, into a file table shaped like ours.

This is what DuckDB's writes cost on this machine, with nothing of MallBots around
them. Appending one event (workload 1) and a load-change-save command (workload 5)
are each one write transaction, so they cannot beat a one-row INSERT; the issue asks
them to reach at least 0.8 of it. A 500-event save (workload F) cannot beat DuckDB's
appender given the same 500 rows ready-made, one flush per save. The table is made by
the event store's own statements (:func:`mallbots.es.duckdb.schema.event_table_sql`), so
DuckDB does the same index work as for an event.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import count
from pathlib import Path

import duckdb

from benchmarks.timing import Trials, clock, per_second
from mallbots.es.duckdb.schema import event_table_sql

NAME = "DuckDB INSERT"

INSERT = "INSERT INTO events VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"


def one_row_inserts(workdir: Path, inserts: int) -> Trials:
    """``inserts`` one-row INSERT statements, each its own transaction (rows/s)."""
    with _events_table(workdir) as connection:
        streams = count(1)
        while True:
            rows = [_row(next(streams), 1) for _ in range(inserts)]
            execute = connection.execute
            start = clock()
            for row in rows:
                execute(INSERT, row)
            yield per_second(inserts, clock() - start)


def batch_appends(workdir: Path, saves: int, events: int) -> Trials:
    """``saves`` streams of ``events`` ready-made rows, one appender flush each (rows/s)."""
    with _events_table(workdir) as connection:
        appender = connection.appender("events")
        streams = count(1)
        while True:
            batches = []
            for _ in range(saves):
                stream = next(streams)
                batches.append([_row(stream, version) for version in range(1, events + 1)])
            start = clock()
            for rows in batches:
                appender.append_rows(rows)
                appender.flush()
            yield per_second(saves * events, clock() - start)


@contextmanager
def _events_table(workdir: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(workdir / "floor.duckdb"))
    try:
        for statement in event_table_sql("events"):  # MallBots' own event table
            connection.execute(statement)
        yield connection
    finally:
        connection.close()


_positions = count(1)


def _row(stream: int, version: int) -> list:
    """An event row as MallBots writes one: a new position, a random UUID, JSON text."""
    return [
        next(_positions),
        f"account-{stream}",
        "bench.Account",
        version,
        str(uuid.uuid4()),
        "bench.Opened" if version == 1 else "bench.Deposited",
        '{"owner":"Ada"}' if version == 1 else '{"amount":"1"}',
        "{}",
        datetime.now(UTC),
    ]


def _append_one(workdir: Path, appends: int) -> Trials:
    return one_row_inserts(workdir, appends)


def _commands(workdir: Path, aggregates: int, commands: int) -> Trials:
    return one_row_inserts(workdir, commands)


TRIALS: dict[str, Callable[..., Trials]] = {
    "append_one": _append_one,
    "commands": _commands,
    "commands_cached": _commands,
    "save_500": batch_appends,
}
