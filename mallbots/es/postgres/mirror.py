"""The PostgreSQL log, mirrored into a local DuckDB database for the read side.

A shop on PostgreSQL keeps its read models in DuckDB, where the set-based rebuilds,
time travel and the notebooks' SQL run. :class:`LogMirror` brings the server's log
over: the same event tables, under the same names, each new row copied with its
position: fetched in PostgreSQL's binary format, 50,000 positions a query, and written
into DuckDB in one columnar INSERT per table (a command's few rows one by one).
Fetching beat ``COPY ... TO STDOUT`` here: 294-300k rows/s against 168-186k for
psycopg's parser of COPY rows (100,000 events of a simulated mall, two rounds).

The mirror's head, the last position it holds, is a row of the DuckDB database,
written in the caller's DuckDB transaction: the projector's checkpoints move in that
same transaction, so the mirror and its read models never disagree.

Which rows are new: positions on the server are handed out in commit order without
holes (see :mod:`mallbots.es.postgres.schema`), so the counter's committed value says
that every position up to it is committed. A pull copies the rows after the mirror's
head up to that value, from every table in one query; an event committing
meanwhile has a higher position and waits for the next pull. When the counter has not
moved, a pull costs one query on each side.

Archived streams (:mod:`mallbots.es.postgres.archive`) move on the server to
``<table>_archive`` without new positions. The mirror keeps the events it had copied
where they are, and copies into its own ``<table>_archive`` those it had not: it holds
the same log, not necessarily each event in the same table as the server. Archiving
moves events into a table that a mirror may not have listed yet; a copy that finds
positions missing while the server lists a new table stops before them (see
:meth:`LogMirror.copy`), so none is skipped.

The server's mall has an id (``mallbots.mall``), and the mirror remembers it: a
read-model file made for one mall is refused by another, rather than mixing logs.
"""

from __future__ import annotations

from mallbots.es.duckdb.database import Database, create_schema_of
from mallbots.es.duckdb.frames import frame_of_rows
from mallbots.es.duckdb.schema import event_table_sql
from mallbots.es.errors import EventSourcingError
from mallbots.es.postgres.database import PostgresDatabase
from mallbots.es.postgres.schema import LOG_SCHEMA
from mallbots.es.postgres.transfer import COLUMNS
from mallbots.es.urls import shown_url
from mallbots.ownership import MIRROR_MARKER

MALL_TABLE = f"{LOG_SCHEMA}.mall"
"""On the server: one row, the mall's id (made by the first shop that mirrors it)."""
MIRROR_TABLE = MIRROR_MARKER
"""In DuckDB: one row, the mall mirrored and the last position copied."""
_SELECT = ", ".join("event_id::text" if c == "event_id" else c for c in COLUMNS)
_WINDOW = 50_000
"""Positions fetched a query (a window's rows are held in memory at once)."""
_FEW = 8


class MirrorMismatchError(EventSourcingError):
    """A read-model file that mirrors another mall than the one on this server."""


class LogMirror:
    """Copies a PostgreSQL database's log into a DuckDB database, position by position."""

    def __init__(self, source: PostgresDatabase, target: Database) -> None:
        self.source = source
        self.target = target
        source.create(
            [
                f"CREATE TABLE IF NOT EXISTS {MALL_TABLE} (only_row BOOLEAN PRIMARY KEY "
                "DEFAULT true CHECK (only_row), id UUID NOT NULL DEFAULT gen_random_uuid())",
                f"INSERT INTO {MALL_TABLE} DEFAULT VALUES ON CONFLICT DO NOTHING",
            ]
        )
        (self.mall,) = source.execute(f"SELECT id::text FROM {MALL_TABLE}").fetchone()
        with target.transaction() as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {MIRROR_TABLE} (mall VARCHAR NOT NULL, "
                "source VARCHAR NOT NULL, position BIGINT NOT NULL)"
            )
            row = cursor.execute(f"SELECT mall, source FROM {MIRROR_TABLE}").fetchone()
            if row is None:
                cursor.execute(
                    f"INSERT INTO {MIRROR_TABLE} VALUES ($1, $2, 0)",
                    [self.mall, shown_url(source.url)],
                )
            elif row[0] != self.mall:
                raise MirrorMismatchError(
                    f"{target.path} holds the read models of another mall (the one at "
                    f"{row[1]}), not of {shown_url(source.url)}: give a new file for this "
                    "mall's read models, or none (they are then kept in memory); nothing "
                    "was changed"
                )
        self.add_new_tables()

    def add_new_tables(self) -> tuple[str, ...]:
        """Make the server's event tables that the mirror lacks (others' modules add some);
        returns the server's event tables.

        Call it outside a transaction: a table made inside one that then rolls back
        would be gone while the mirror still counts it.
        """
        tables = self.source.refresh_log_tables()
        for table in tables:
            if table not in self.target.log_tables:
                with self.target.writing() as cursor:
                    create_schema_of(cursor, table)
                    for statement in event_table_sql(table):
                        cursor.execute(statement)
                self.target.log_book.register(table, self.target.execute)
        return tables

    @property
    def head(self) -> int:
        """The last position copied (committed in DuckDB, or in this thread's transaction)."""
        (position,) = self.target.execute(f"SELECT position FROM {MIRROR_TABLE}").fetchone()
        return position

    def behind(self) -> tuple[int, int] | None:
        """The positions ``(after, up_to]`` the server has committed and the mirror lacks,
        with the tables that hold them made; None when the mirror is up to date.

        The counter is read first, the tables after: a table holding a committed
        event was listed before that event committed.
        """
        committed = self.source.last_position
        head = self.head
        if committed <= head:
            return None
        self.add_new_tables()
        return head, committed

    def copy(self, after: int, up_to: int) -> int:
        """Copy the events at positions ``(after, up_to]`` (see :meth:`behind`) and move
        the head to ``up_to``, in the target's transaction (its own, or the caller's: a
        projector catching up in it commits its read models with the copied events).
        Returns how many events were copied.

        The head stops short of ``up_to`` only when events moved meanwhile into a table
        the mirror lacks (streams archived since :meth:`behind` listed the tables): it
        stops before the first position missing, and the next pull, which makes the
        table, copies the rest.
        """
        tables = [table for table in self.source.log_tables if table in self.target.log_tables]
        copied, head = 0, after
        with self.target.transaction() as cursor:
            for low in range(after, up_to, _WINDOW):
                high = min(low + _WINDOW, up_to)
                fetched = self._fetch(tables, low, high)
                stopped = len(fetched) < high - low and self._new_tables(tables)
                if stopped:
                    fetched = _without_gap(fetched, low)
                    high = low + len(fetched)
                by_table: dict[str, list[tuple]] = {}
                for table, *row in fetched:
                    by_table.setdefault(table, []).append(row)
                for table, rows in by_table.items():
                    self._insert(cursor, table, rows)
                    copied += len(rows)
                head = high
                if stopped:
                    break
            cursor.execute(f"UPDATE {MIRROR_TABLE} SET position = $1", [head])
        return copied

    def _new_tables(self, tables: list[str]) -> bool:
        """Whether the server's log has tables besides ``tables`` (read anew): positions
        are handed out without holes, so a short fetch may mean rows moved to one."""
        return any(table not in tables for table in self.source.refresh_log_tables())

    def _fetch(self, tables: list[str], after: int, up_to: int) -> list[tuple]:
        """Every table's rows at positions ``(after, up_to]``, each led by its table's
        name, in position order: one query, its result in PostgreSQL's binary format."""
        union = " UNION ALL ".join(
            f"SELECT '{table}', {_SELECT} FROM {table} WHERE position > %s AND position <= %s"
            for table in tables
        )
        source = self.source
        with source.translated_errors(), source.connection().cursor(binary=True) as server:
            return server.execute(f"{union} ORDER BY 2", [after, up_to] * len(tables)).fetchall()

    def pull(self) -> int:
        """Copy whatever the mirror lacks, in one transaction; how many positions it took."""
        span = self.behind()
        if span is None:
            return 0
        self.copy(*span)
        return self.head - span[0]  # short of the span if events moved meanwhile

    @staticmethod
    def _insert(cursor, table: str, rows: list) -> None:
        """A command's few rows one statement each; more in columns, from a DataFrame
        (which costs about a millisecond to build, whatever its size)."""
        names = ", ".join(COLUMNS)
        if len(rows) <= _FEW:
            values = ", ".join(f"${i}" for i in range(1, len(COLUMNS) + 1))
            for row in rows:
                cursor.execute(f"INSERT INTO {table} ({names}) VALUES ({values})", row)
        else:
            pulled = frame_of_rows(rows, COLUMNS)  # noqa: F841 (read by the SQL)
            cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM pulled")


def _without_gap(rows: list[tuple], after: int) -> list[tuple]:
    """The rows (table, position, ...) in position order up to the first position
    after ``after`` that is missing."""
    for count, row in enumerate(rows):
        if row[1] != after + 1 + count:
            return rows[:count]
    return rows
