"""PostgreSQL's floors: bare psycopg one-row INSERTs, each committed, into a table like ours.

What one write costs on the server with nothing of MallBots around it, measured two
ways, since "an insert and a commit" is both:

- :data:`AUTOCOMMIT`: a connection in autocommit mode sends the one-row ``INSERT`` and
  the server commits it: one round trip, the least a write can cost;
- :data:`TRANSACTION`: psycopg's default connection, ``execute`` then ``commit()``:
  psycopg opens the transaction with ``BEGIN``, so three round trips.

A third figure bounds the commands from above rather than below:

- :data:`BARE_COMMAND`: a command cut to its two statements, with nothing of MallBots
  between them: read the stream's last events, then insert the next one, claiming its
  position from the log's counter as MallBots' append does, autocommitted. No decoding,
  no aggregate, no concurrency check: the most any command that reads before it writes
  can reach on this server. Only the command workloads are measured on it.

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
from mallbots.es.postgres.schema import CLAIM_POSITIONS, LOG_SQL, event_table_sql

TABLE = "floor.events"
COMMAND_KEYS = ("commands", "commands_cached", "commands_cached_checked", "commands_snapshots")
"""The command workloads (P5, P5c, P5k, P5s): each side measures them the same way."""
INSERT = f"INSERT INTO {TABLE} VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"


def one_row_inserts(workdir: Path, inserts: int, url: str, autocommit: bool = True) -> Trials:
    """``inserts`` one-row INSERT statements, each its own transaction (rows/s)."""
    import psycopg

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


LAST_EVENTS = (
    f"SELECT stream_version, event_data FROM {TABLE} WHERE stream_id = %s AND stream_name = %s "
    "ORDER BY stream_version DESC LIMIT 3"
)
INSERT_NEXT = (
    f"WITH claimed AS ({CLAIM_POSITIONS} RETURNING last_position) "
    f"INSERT INTO {TABLE} SELECT claimed.last_position, %s, %s, %s, %s, %s, %s, %s, %s FROM claimed"
)


def bare_commands(workdir: Path, aggregates: int, commands: int, url: str) -> Trials:
    """``commands`` commands on ``aggregates`` streams, each its two statements alone: a
    read of the stream's last three events, then an autocommitted insert of the next
    one with its position claimed from the log's counter (commands/s)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        for statement in [*LOG_SQL, *event_table_sql(TABLE)]:
            connection.execute(statement)
        execute = connection.execute
        for stream in range(1, aggregates + 1):
            execute(INSERT_NEXT, [1, *event_row(0, stream, 1)[1:]])
        while True:
            streams = [(i % aggregates) + 1 for i in range(commands)]
            start = clock()
            for stream in streams:
                stream_id = f"account-{stream}"
                last = execute(LAST_EVENTS, [stream_id, "bench.Account"]).fetchall()
                execute(INSERT_NEXT, [1, *event_row(0, stream, last[0][0] + 1)[1:]])
            yield per_second(commands, clock() - start)


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
        for key in COMMAND_KEYS:
            trials[key] = trials["commands"]
        object.__setattr__(self, "TRIALS", trials)


@dataclass(frozen=True)
class Ceiling:
    """The bare command as the runner takes a side: the command workloads only."""

    NAME: str = "psycopg SELECT, INSERT (a bare command)"
    TRIALS: dict[str, Callable[..., Trials]] = field(
        default_factory=lambda: {key: bare_commands for key in COMMAND_KEYS}
    )


AUTOCOMMIT = Floor("psycopg INSERT (autocommit)", autocommit=True)
TRANSACTION = Floor("psycopg INSERT + commit()", autocommit=False)
BARE_COMMAND = Ceiling()
FLOORS = [AUTOCOMMIT, TRANSACTION]
"""The floors the issue's target is judged against."""
