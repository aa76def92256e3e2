"""The PostgreSQL log, mirrored into a local DuckDB database for the read side.

A shop on PostgreSQL keeps its read models in DuckDB, where the set-based rebuilds,
time travel and the notebooks' SQL run. :class:`LogMirror` brings the server's log
over: the same event tables, under the same names, each new row copied with its
position, in columns (``COPY ... TO STDOUT`` in binary, then one columnar INSERT per
chunk). The mirror's head, the last position it holds, is a row of the DuckDB
database, written in the caller's DuckDB transaction: the projector's checkpoints
move in that same transaction, so the mirror and its read models never disagree.

Which rows are new: positions on the server are handed out in commit order without
holes (see :mod:`mallbots.es.postgres.schema`), so the counter's committed value says
that every position up to it is committed. A pull copies the rows after the mirror's
head up to that value, table by table; one committing meanwhile has a higher
position and waits for the next pull. When the counter has not moved, a pull costs
one query on each side.

The server's mall has an id (``mallbots.mall``), and the mirror remembers it: a
read-model file made for one mall is refused by another, rather than mixing logs.
"""

from __future__ import annotations

from mallbots.es.database import Database, create_schema_of
from mallbots.es.errors import EventSourcingError
from mallbots.es.event_store import event_table_sql
from mallbots.es.frames import frame_of_rows
from mallbots.es.postgres.database import PostgresDatabase
from mallbots.es.postgres.schema import LOG_SCHEMA
from mallbots.es.urls import shown_url
from mallbots.ownership import MIRROR_MARKER

MALL_TABLE = f"{LOG_SCHEMA}.mall"
"""On the server: one row, the mall's id (made by the first shop that mirrors it)."""
MIRROR_TABLE = MIRROR_MARKER
"""In DuckDB: one row, the mall mirrored and the last position copied."""
COLUMNS = (
    "position",
    "stream_id",
    "stream_name",
    "stream_version",
    "event_id",
    "event_name",
    "event_data",
    "metadata",
    "occurred_at",
)
_SELECT = ", ".join("event_id::text" if c == "event_id" else c for c in COLUMNS)
_TYPES = ["int8", "text", "text", "int4", "text", "text", "text", "text", "timestamptz"]
_CHUNK = 50_000


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

    def add_new_tables(self) -> None:
        """Make the server's event tables that the mirror lacks (others' modules add some).

        Call it outside a transaction: a table made inside one that then rolls back
        would be gone while the mirror still counts it.
        """
        for table in self.source.refresh_log_tables():
            self._create(table)

    @property
    def head(self) -> int:
        """The last position copied (committed in DuckDB, or in this thread's transaction)."""
        (position,) = self.target.execute(f"SELECT position FROM {MIRROR_TABLE}").fetchone()
        return position

    def pull(self) -> int:
        """Copy the server's committed events after the head; how many were copied.

        Runs in the target's transaction (its own, or the caller's: a projector
        catching up in it commits its read models with the copied events).
        """
        committed = self.source.last_position
        if committed <= self.head:
            return 0
        copied = 0
        with self.target.transaction() as cursor:
            head = self.head
            for table in self.source.refresh_log_tables():
                self._create(table)  # made by another process since add_new_tables
                copied += self._copy(cursor, table, head, committed)
            cursor.execute(f"UPDATE {MIRROR_TABLE} SET position = $1", [committed])
        return copied

    def _create(self, table: str) -> None:
        if table in self.target.log_tables:
            return
        with self.target.writing() as cursor:
            create_schema_of(cursor, table)
            for statement in event_table_sql(table):
                cursor.execute(statement)
        self.target.register_log_table(table)

    def _copy(self, cursor, table: str, after: int, up_to: int) -> int:
        """Copy one table's rows with positions in (after, up_to]; how many."""
        sql = (
            f"COPY (SELECT {_SELECT} FROM {table} WHERE position > {int(after)} "
            f"AND position <= {int(up_to)} ORDER BY position) TO STDOUT (FORMAT BINARY)"
        )
        copied = 0
        source = self.source
        with (
            source.translated_errors(),
            source.connection().cursor() as server,
            server.copy(sql) as copy,
        ):
            copy.set_types(_TYPES)
            rows = []
            for row in copy.rows():
                rows.append(row)
                if len(rows) == _CHUNK:
                    copied += self._insert(cursor, table, rows)
                    rows = []
            copied += self._insert(cursor, table, rows)
        return copied

    @staticmethod
    def _insert(cursor, table: str, rows: list) -> int:
        if not rows:
            return 0
        pulled = frame_of_rows(rows, COLUMNS)  # noqa: F841 (read by the SQL)
        names = ", ".join(COLUMNS)
        cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM pulled")
        return len(rows)
