"""PostgreSQL's floors: bare psycopg one-row INSERTs, each committed, into a table like ours.

What one write costs on the server with nothing of MallBots around it, measured two
ways, since "an insert and a commit" is both:

- :data:`AUTOCOMMIT`: a connection in autocommit mode sends the one-row ``INSERT`` and
  the server commits it: one round trip, the least a write can cost;
- :data:`TRANSACTION`: psycopg's default connection, ``execute`` then ``commit()``:
  psycopg opens the transaction with ``BEGIN``, so three round trips.

psycopg prepares the statement on the server after its fifth run, as it does for
MallBots' statements. Appending one event (workload P1) and a load-change-save command
(P5, and P5c with the aggregate cache) are each at least one such write; the issue
asks them to reach at least 0.8 of it. The table is made by the PostgreSQL event
store's own statements (:func:`mallbots.es.postgres.schema.event_table_sql`), so the
server maintains the same indexes as for an event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from itertools import count
from pathlib import Path

from benchmarks.duckdb_floor import event_row
from benchmarks.timing import Trials, clock, per_second

TABLE = "floor.events"
INSERT = f"INSERT INTO {TABLE} VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"


def one_row_inserts(workdir: Path, inserts: int, url: str, autocommit: bool = True) -> Trials:
    """``inserts`` one-row INSERT statements, each its own transaction (rows/s)."""
    import psycopg

    from mallbots.es.postgres.schema import LOG_SQL, event_table_sql

    with psycopg.connect(url, autocommit=True) as connection:
        for statement in [*LOG_SQL, *event_table_sql(TABLE)]:
            connection.execute(statement)
    with psycopg.connect(url, autocommit=autocommit) as connection:
        streams, positions = count(1), count(1)
        while True:
            rows = [event_row(next(positions), next(streams), 1) for _ in range(inserts)]
            execute, commit = connection.execute, connection.commit
            start = clock()
            if autocommit:
                for row in rows:
                    execute(INSERT, row)
            else:
                for row in rows:
                    execute(INSERT, row)
                    commit()
            yield per_second(inserts, clock() - start)


@dataclass(frozen=True)
class Floor:
    """A floor as the runner takes a side: a name and its trials by workload key."""

    NAME: str
    autocommit: bool
    TRIALS: dict[str, Callable[..., Trials]] = field(init=False)

    def __post_init__(self) -> None:
        inserts = partial(one_row_inserts, autocommit=self.autocommit)
        trials = {
            "append_one": lambda workdir, appends, url: inserts(workdir, appends, url),
            "commands": lambda workdir, aggregates, commands, url: inserts(workdir, commands, url),
        }
        for key in ("commands_cached", "commands_cached_checked", "commands_snapshots"):
            trials[key] = trials["commands"]
        object.__setattr__(self, "TRIALS", trials)


AUTOCOMMIT = Floor("psycopg INSERT (autocommit)", autocommit=True)
TRANSACTION = Floor("psycopg INSERT + commit()", autocommit=False)
FLOORS = [AUTOCOMMIT, TRANSACTION]
