"""PostgreSQL's floor: bare psycopg one-row INSERTs, each committed, into a table like ours.

What one write costs on the server with nothing of MallBots around it: a psycopg
connection in autocommit mode sends ``INSERT ... VALUES`` (one row) and the server
commits it, one round trip (psycopg prepares the statement server-side after its fifth
run, as it does for MallBots' statements). Appending one event (workload P1) and a
load-change-save command (P5, and P5c with the aggregate cache) are each at least one
such write; the issue asks them to reach at least 0.8 of it. The table is made by the
PostgreSQL event store's own statements
(:func:`mallbots.es.postgres.schema.event_table_sql`), so the server maintains the same
indexes as for an event.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from pathlib import Path

from benchmarks.duckdb_floor import event_row
from benchmarks.timing import Trials, clock, per_second

NAME = "psycopg INSERT"
TABLE = "floor.events"
INSERT = f"INSERT INTO {TABLE} VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"


def one_row_inserts(workdir: Path, inserts: int, url: str) -> Trials:
    """``inserts`` one-row INSERT statements, each its own transaction (rows/s)."""
    import psycopg

    from mallbots.es.postgres.schema import LOG_SQL, event_table_sql

    with psycopg.connect(url, autocommit=True) as connection:
        for statement in [*LOG_SQL, *event_table_sql(TABLE)]:
            connection.execute(statement)
        streams, positions = count(1), count(1)
        while True:
            rows = [event_row(next(positions), next(streams), 1) for _ in range(inserts)]
            execute = connection.execute
            start = clock()
            for row in rows:
                execute(INSERT, row)
            yield per_second(inserts, clock() - start)


def _append_one(workdir: Path, appends: int, url: str) -> Trials:
    return one_row_inserts(workdir, appends, url)


def _commands(workdir: Path, aggregates: int, commands: int, url: str) -> Trials:
    return one_row_inserts(workdir, commands, url)


TRIALS: dict[str, Callable[..., Trials]] = {
    "append_one": _append_one,
    "commands": _commands,
    "commands_cached": _commands,
}
