"""DuckDB's floor: a plain one-row INSERT, autocommitted, into a file table shaped like ours.

This is what one DuckDB write transaction costs on this machine, with nothing of
MallBots around it. Appending one event (workload 1) and a load-change-save command
(workload 5) are each one write transaction, so they cannot beat it; the issue asks
them to reach at least 0.8 of it. The table has the event table's columns, primary key,
unique event id and stream index, so DuckDB does the same index work as for an event.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from benchmarks.timing import Trials, clock, per_second

NAME = "DuckDB INSERT"

TABLE = """
CREATE TABLE events (
    position       BIGINT      NOT NULL,
    stream_id      VARCHAR     NOT NULL,
    stream_name    VARCHAR     NOT NULL,
    stream_version INTEGER     NOT NULL,
    event_id       UUID        NOT NULL UNIQUE,
    event_name     VARCHAR     NOT NULL,
    event_data     VARCHAR     NOT NULL,
    metadata       VARCHAR     NOT NULL DEFAULT '{}',
    occurred_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (stream_id, stream_name, stream_version)
)
"""

INSERT = "INSERT INTO events VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"


def one_row_inserts(workdir: Path, inserts: int) -> Trials:
    """``inserts`` one-row INSERT statements, each its own transaction (rows/s)."""
    connection = duckdb.connect(str(workdir / "floor.duckdb"))
    try:
        connection.execute(TABLE)
        connection.execute("CREATE INDEX events_by_stream ON events (stream_id)")
        position = 0
        while True:
            rows = []
            for _ in range(inserts):
                position += 1
                rows.append(
                    [
                        position,
                        f"account-{position}",
                        "bench.Account",
                        1,
                        str(uuid.uuid4()),
                        "bench.Opened",
                        '{"owner":"Ada"}',
                        "{}",
                        datetime.now(UTC),
                    ]
                )
            execute = connection.execute
            start = clock()
            for row in rows:
                execute(INSERT, row)
            yield per_second(inserts, clock() - start)
    finally:
        connection.close()


def _append_one(workdir: Path, appends: int) -> Trials:
    return one_row_inserts(workdir, appends)


def _commands(workdir: Path, aggregates: int, commands: int) -> Trials:
    return one_row_inserts(workdir, commands)


TRIALS: dict[str, Callable[..., Trials]] = {
    "append_one": _append_one,
    "commands": _commands,
}
