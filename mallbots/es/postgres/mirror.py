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
meanwhile has a higher position and waits for the next pull.

Beside the log, the mirror keeps copies of the server's snapshots, continuations and
plain tables (:class:`~mallbots.es.postgres.table_mirror.TableMirror`): the query that
reads the counter also asks whether any of them changed since the server snapshot the
mirror last copied them in, so when neither moved a pull costs one query on each side.
When a table moved, the events and the changed rows are read in one ``REPEATABLE
READ`` transaction on the server and land in one DuckDB transaction, with the head and
that snapshot.

Archived streams (:mod:`mallbots.es.postgres.archive`) move on the server to
``<table>_archive`` without new positions. The mirror keeps the events it had copied
where they are, and copies into its own ``<table>_archive`` those it had not: it holds
the same log, not necessarily each event in the same table as the server. Archiving
moves events into a table that a mirror may not have listed yet; a copy that finds
positions missing while the server lists a new table stops before them (see
:meth:`LogMirror.copy`), so none is skipped.

The server's mall has an id (``mallbots.mall``), and the mirror remembers it: a
read-model file made for one mall is refused by another, rather than mixing logs.

A mall's database may be dumped and restored (``pg_dump``, then ``pg_restore``): on
another server, or as a new database on the same one (a class's mall put back to where
a lesson began, a mall cloned for a second class). The mall id and the log come along,
but a snapshot taken of the old database says nothing of the new one's transactions
(on a fresh server every later change would look older than it, and be missed). So
the mirror remembers which database its snapshot is of (the server's
``system_identifier`` and the database's oid): in the file, and in memory once read at
open (the file has one writing process). The probe reads the database's each time;
on another, the tables are copied whole once, and the log is checked first: a file
whose head is past the log, or whose event at its head is not the log's (a backup
older than the file, then written to), is refused: at open, or at the first catch-up
that finds the database changed or the log behind the file's head. Its read models
hold events the log no longer has, and new events would take their positions unseen.
Put back in place (``pg_restore --clean``: the same database) while a shop runs, and
written past the file's head before that shop's next catch-up, the log is not checked
until the next open: that would take a query at each catch-up.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

from mallbots.es.duckdb.database import Database
from mallbots.es.duckdb.frames import frame_of_rows
from mallbots.es.duckdb.schema import APPENDED as COLUMNS
from mallbots.es.duckdb.schema import event_table_sql
from mallbots.es.errors import EventSourcingError
from mallbots.es.postgres.database import PostgresDatabase
from mallbots.es.postgres.schema import LOG_SCHEMA, POSITION_TABLE
from mallbots.es.postgres.table_mirror import TableMirror
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


class Behind(NamedTuple):
    """What a mirror lacks: the positions ``(after, up_to]`` of the log, and whether
    tracked tables moved since the server snapshot ``since`` they were copied in (None:
    never, or of another database)."""

    after: int
    up_to: int
    since: str | None
    tables: bool


class MirrorState(NamedTuple):
    """The mirror's row: the last position copied, and the server snapshot the tables
    were copied in."""

    head: int
    snapshot: str | None


class Probe(NamedTuple):
    """The server now: the log's committed head, its snapshot, which database it is, the
    mirror's snapshot if it is of this database (else None: after a copy in this
    transaction that moved to another database, not until it commits, so the tables
    are copied whole again, never too little), and the tracked tables that moved since
    (all, when there is no snapshot of this database)."""

    committed: int
    snapshot: str
    database: str
    since: str | None
    moved: list[str]


DATABASE_IDENTITY = (
    "(SELECT system_identifier::text FROM pg_control_system()) || '/' || "
    "(SELECT oid::text FROM pg_database WHERE datname = current_database())"
)
"""SQL for which database this is: its server's ``system_identifier`` (made by
``initdb``, readable by any role) and its oid there (new with each ``CREATE DATABASE``)."""


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
                    f"INSERT INTO {MIRROR_TABLE} (mall, source, position) VALUES ($1, $2, 0)",
                    [self.mall, shown_url(source.url)],
                )
            elif row[0] != self.mall:
                raise MirrorMismatchError(
                    f"{target.path} holds the read models of another mall (the one at "
                    f"{row[1]}), not of {shown_url(source.url)}: give a new file for this "
                    "mall's read models, or none (they are then kept in memory); nothing "
                    "was changed"
                )
            (head,) = cursor.execute(f"SELECT position FROM {MIRROR_TABLE}").fetchone()
            self._refuse_a_log_that_went_back(head)
            # The server snapshot its tables were copied in, and the database that
            # snapshot is of (a file from before has neither: its tables are copied whole
            # once).
            for column in ("snapshot", "snapshot_of"):
                cursor.execute(
                    f"ALTER TABLE {MIRROR_TABLE} ADD COLUMN IF NOT EXISTS {column} VARCHAR"
                )
            # The database the committed snapshot is of, kept in memory: each catch-up
            # compares it with the server's, and a third column read from DuckDB cost
            # 15-35 us of a 320 us catch-up.
            (self._snapshot_of,) = cursor.execute(
                f"SELECT snapshot_of FROM {MIRROR_TABLE}"
            ).fetchone()
        self._log_checked_in: str | None = None
        """The database whose log was last found to hold the file's head (checked once
        for each database the probe finds that is not the snapshot's)."""
        self.tables = TableMirror(source, target)
        self.add_new_tables()

    def _refuse_a_log_that_went_back(self, head: int) -> None:
        """Refuse a file whose ``head`` the server's log does not hold as the file does:
        the database was restored from an earlier state, so the read models hold events
        it no longer has, and new events would take their positions unseen."""
        if head == 0:
            return
        (committed,) = self.source.execute(f"SELECT last_position FROM {POSITION_TABLE}").fetchone()
        tables = list(self.source.refresh_log_tables())
        mine = self._event_id_at(head, [table for table in tables if self.target.has_table(table)])
        theirs = self._fetch(tables, head - 1, head)
        if committed >= head and theirs and theirs[0][COLUMNS.index("event_id") + 1] == mine:
            return
        where = f"{self.target.path} holds the read models of this mall up to position {head:,}"
        if committed < head:
            found = f"the log at {shown_url(self.source.url)} ends at {committed:,}"
        else:
            found = f"the event at that position on {shown_url(self.source.url)} is another"
        raise MirrorMismatchError(
            f"{where}, but {found}: the mall was restored from an earlier state. Give a "
            "new file for the read models, or none (they are then built again from the "
            "log); nothing was changed"
        )

    def _event_id_at(self, position: int, tables: list[str]) -> str | None:
        """The id of the mirrored event at ``position``, in any of ``tables``."""
        union = " UNION ALL ".join(
            f"SELECT event_id::VARCHAR FROM {table} WHERE position = $1" for table in tables
        )
        row = self.target.execute(union, [position]).fetchone() if union else None
        return None if row is None else row[0]

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
                    for statement in event_table_sql(table):
                        cursor.execute(statement)
                self.target.log_book.register(table, self.target.execute)
        return tables

    @property
    def head(self) -> int:
        """The last position copied (committed in DuckDB, or in this thread's transaction)."""
        return self._state().head

    def _state(self) -> MirrorState:
        """The mirror's row (committed in DuckDB, or in this thread's transaction)."""
        state = self.target.parsed(f"SELECT position, snapshot FROM {MIRROR_TABLE}")
        return MirrorState(*self.target.execute(state).fetchone())

    def _probe(self, state: MirrorState) -> Probe:
        """One query: the log's committed head, the server's snapshot, which database this
        is, and which tracked tables hold rows not visible in the mirror's snapshot
        (every table, if that snapshot is of another database, or there is none)."""
        committed, snapshot, database, tracked, flags = self.source.execute(
            f"SELECT last_position, pg_current_snapshot()::text, {DATABASE_IDENTITY}, "
            f"{self.tables.probe_sql(state.snapshot)} FROM {POSITION_TABLE}",
            {"since": state.snapshot},
        ).fetchone()
        since = state.snapshot if database == self._snapshot_of else None
        moved = self.tables.moved(since, tracked, flags)
        return Probe(committed, snapshot, database, since, moved)

    def behind(self) -> Behind | None:
        """What the server has committed and the mirror lacks (positions ``(after,
        up_to]``, and whether tracked tables moved), with the event tables that hold
        them made; None when the mirror is up to date (its log, and its copies of the
        tracked tables: see :mod:`.table_mirror`).

        The counter is read first, the tables after: a table holding a committed
        event was listed before that event committed.
        """
        state = self._state()
        probe = self._probe(state)
        if probe.committed < state.head or probe.database not in (
            self._snapshot_of,
            self._log_checked_in,
        ):  # the log went back, or the database changed, since this mirror last looked
            self._refuse_a_log_that_went_back(state.head)
            self._log_checked_in = probe.database
        if probe.committed <= state.head and not probe.moved:
            return None
        self.add_new_tables()
        return Behind(state.head, probe.committed, probe.since, bool(probe.moved))

    def copy(self, behind: Behind) -> int:
        """Copy what :meth:`behind` found, in the target's transaction (its own, or the
        caller's: a projector catching up in it commits its read models with the copied
        events), and move the head. Returns the position copied up to.

        When only the log moved, its events are copied: a committed position never
        changes. When tracked tables moved too, the events and the tables' changed rows
        are read from one snapshot of the server (which may hold later events: they
        come too), and the mirror remembers that snapshot.

        The head stops short only when events moved meanwhile into a table the mirror
        lacks (streams archived since :meth:`behind` listed the tables): it stops before
        the first position missing, the tables are left as they were (a copied
        snapshot is never ahead of its stream's copied events), and the next pull,
        which makes the table, copies the rest.
        """
        tables = [table for table in self.source.log_tables if table in self.target.log_tables]
        with self.target.transaction() as cursor:
            if not behind.tables:
                return self._advance(
                    cursor, self._copy_events(cursor, tables, behind.after, behind.up_to)
                )
            with self._snapshot():
                committed, snapshot, database, _, moved = self._probe(
                    self._state()._replace(snapshot=behind.since)
                )
                if not set(self.source.refresh_log_tables()) <= set(tables):
                    # A table new since the tables were listed: the events up to what
                    # behind() saw come now; the rest, and the rows that go with them,
                    # with the next pull, which makes the table (no copied row ahead of
                    # its events).
                    return self._advance(
                        cursor, self._copy_events(cursor, tables, behind.after, behind.up_to)
                    )
                # Every table of this state of the server is listed: no position is missing.
                self._copy_events(cursor, tables, behind.after, committed)
                self.tables.apply(cursor, self.tables.fetch(moved, behind.since))
            copied = self.target.parsed(
                f"UPDATE {MIRROR_TABLE} SET position = $1, snapshot = $2, snapshot_of = $3"
            )
            cursor.execute(copied, [committed, snapshot, database])
            self.target.after_commit(lambda: setattr(self, "_snapshot_of", database))
        return committed

    def _advance(self, cursor, head: int) -> int:
        """Move the head to ``head``, the tables' snapshot left as it was; returns it."""
        cursor.execute(self.target.parsed(f"UPDATE {MIRROR_TABLE} SET position = $1"), [head])
        return head

    def _copy_events(self, cursor, tables: list[str], after: int, up_to: int) -> int:
        """Copy the events at positions ``(after, up_to]``, window by window; the
        position copied up to (short of ``up_to`` if positions are missing while the
        server lists a table the mirror lacks)."""
        for low in range(after, up_to, _WINDOW):
            high = min(low + _WINDOW, up_to)
            fetched = self._fetch(tables, low, high)
            stopped = len(fetched) < high - low and self._new_tables(tables)
            if stopped:
                fetched = _without_gap(fetched, low)
            by_table: dict[str, list[tuple]] = {}
            for table, *row in fetched:
                by_table.setdefault(table, []).append(row)
            for table, rows in by_table.items():
                self._insert(cursor, table, rows)
            if stopped:
                return low + len(fetched)
        return up_to

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """A read-only ``REPEATABLE READ`` transaction on the server: one state of it."""
        with self.source.transaction() as server:
            server.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield

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
        return self.copy(span) - span.after  # short of the span if events moved meanwhile

    def _insert(self, cursor, table: str, rows: list) -> None:
        """A command's few rows in one parsed ``INSERT ... VALUES`` statement; more in
        columns, from a DataFrame (which costs about a millisecond to build, whatever
        its size)."""
        names = ", ".join(COLUMNS)
        if len(rows) <= _FEW:
            width = len(COLUMNS)
            values = ", ".join(
                "(" + ", ".join(f"${n * width + i}" for i in range(1, width + 1)) + ")"
                for n in range(len(rows))
            )
            insert = self.target.parsed(f"INSERT INTO {table} ({names}) VALUES {values}")
            cursor.execute(insert, [value for row in rows for value in row])
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
