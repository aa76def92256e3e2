"""The server's snapshots, continuations and plain tables, mirrored into the read side's DuckDB.

A shop on PostgreSQL writes its snapshots, continuations and the plain modules' tables
(customers, payments, depot, notifications) on the server. Its read side keeps a copy
of each in its DuckDB, under the same name, with the same columns, types and primary
key, so that SQL on ``shop.database`` (the notebooks', the command panel's) finds them
as it does on a DuckDB shop.

Design:

- **The server says what changed.** Every such table is *tracked*
  (:mod:`mallbots.es.postgres.changes`): triggers note, in the writing transaction, the
  keys each transaction wrote, stamped with its transaction id. Whoever writes (a
  command of any process, a rebuild, a copy, SQL by hand) is noted the same way, and a
  rollback notes nothing.
- **The mirror remembers a snapshot.** The DuckDB mirror's row holds, beside the log's
  head, the server snapshot (``pg_current_snapshot()``) its tables were copied in. A
  catch-up asks, in the query that reads the log's counter, whether any tracked table
  holds a key not visible in that snapshot (one index range a table, empty when
  nothing moved): when neither the log nor a table moved, a catch-up stays one query
  on the server and one on DuckDB.
- **One snapshot, one DuckDB transaction.** When something moved, the catch-up reads
  the server in one ``REPEATABLE READ`` transaction: the log's counter, the snapshot,
  the new events and the changed rows (each changed key with its row, or none where it
  was deleted) all come from that one state of the server, and land, with the new
  head and snapshot, in the caller's DuckDB transaction, beside the read models the
  events move. A table the mirror has not seen yet is copied whole.
- **Values travel as text**, cast by DuckDB to the column's type: exact for every
  type the shop's tables use (decimals, times with their zone, booleans, uuids).

A transaction that holds a table's exclusive lock (a ``TRUNCATE``, a snapshot table
dropped and made again) makes a catch-up that must read that table wait for it, as the
writers of that table wait, at most the server's lock timeout (then a
:class:`~mallbots.es.postgres.ServerBusyError`: nothing was copied).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from mallbots.es.duckdb.database import Database, create_schema_of
from mallbots.es.postgres.changes import (
    TRACKED_TABLES,
    changed_since,
)
from mallbots.es.postgres.database import PostgresDatabase
from mallbots.es.transfer import Shape, column_list

_FEW = 8
"""Changed rows written one statement each; more go in one statement from a DataFrame."""


@dataclass(frozen=True)
class TableChanges:
    """Rows of one table as the server holds them now: ``rows`` as text, each led by
    whether the key still exists (False: deleted); ``whole``: every row, not only changes."""

    table: str
    rows: list[tuple]
    whole: bool


class TableMirror:
    """Copies the server's tracked tables into a DuckDB database, only what changed."""

    def __init__(self, source: PostgresDatabase, target: Database) -> None:
        self.source = source
        self.target = target
        self.tables: tuple[str, ...] = ()
        self._shapes: dict[str, Shape] = {}
        self._held: set[str] | None = None
        self.refresh()

    def refresh(self) -> None:
        """Read which tables the server tracks (a process may add some)."""
        rows = self.source.execute(f"SELECT name FROM {TRACKED_TABLES} ORDER BY name").fetchall()
        self.tables = tuple(name for (name,) in rows)

    def probe_sql(self, since: str | None) -> str:
        """The columns of the log's probe (see :class:`~mallbots.es.postgres.mirror.LogMirror`)
        that say which tables moved: how many are tracked, and for each known table
        whether it holds a key not visible in the snapshot ``since`` (every table has
        moved when there is none yet)."""
        count = f"(SELECT count(*) FROM {TRACKED_TABLES})"
        if since is None or not self.tables:
            return f"{count}, ARRAY[]::boolean[]"
        moved = ", ".join(f"EXISTS ({changed_since(table, '%(since)s')})" for table in self.tables)
        return f"{count}, ARRAY[{moved}]"

    def moved(self, since: str | None, tracked: int, flags: Sequence[bool]) -> list[str]:
        """The tables whose rows must be read, from a probe's answer."""
        if tracked != len(self.tables):
            self.refresh()
            return list(self.tables)
        if since is None:
            return list(self.tables)
        return [table for table, flag in zip(self.tables, flags, strict=True) if flag]

    def fetch(self, tables: Sequence[str], since: str | None) -> list[TableChanges]:
        """What the tables hold now, on the server's current connection (the caller's
        ``REPEATABLE READ`` transaction): the rows changed since ``since``, or every row
        of a table the mirror lacks."""
        held = self._mirrored()
        found = []
        for table in tables:
            shape = self.shape(table)
            whole = since is None or table not in held
            texts = ", ".join(
                f"{'c' if name in shape.key and not whole else 't'}.{column_list([name])}::text"
                for name in shape.names
            )
            if whole:
                sql = f"SELECT true, {texts} FROM {table} AS t"
                parameters: dict[str, str] = {}
            else:
                on = " AND ".join(f"t.{column_list([k])} = c.{column_list([k])}" for k in shape.key)
                present = f"t.{column_list([shape.key[0]])} IS NOT NULL"
                sql = (
                    f"SELECT {present}, {texts} FROM ({changed_since(table, '%(since)s')}) AS c "
                    f"LEFT JOIN {table} AS t ON {on}"
                )
                parameters = {"since": since}
            rows = self.source.execute(sql, parameters).fetchall()
            if whole or rows:
                found.append(TableChanges(table, rows, whole))
        return found

    def apply(self, cursor, changes: Sequence[TableChanges]) -> None:
        """Write fetched rows into the DuckDB copies (made if missing), in ``cursor``'s
        transaction: each changed key's old row deleted, its row now inserted."""
        held = self._mirrored()
        for change in changes:
            table, shape = change.table, self.shape(change.table)
            if table not in held:
                create_schema_of(cursor, table)
                cursor.execute(shape.create_sql(table))
                self.target.after_commit(lambda made=table: held.add(made))
            if change.whole:
                cursor.execute(f"DELETE FROM {table}")
            if len(change.rows) <= _FEW:
                _write_each(self.target, table, shape, change)
            else:
                _write_frame(cursor, table, shape, change)

    def shape(self, table: str) -> Shape:
        """A tracked table's columns (as DuckDB types them) and key, read once."""
        if table not in self._shapes:
            from mallbots.es.postgres.transfer import PostgresSide

            self._shapes.update(PostgresSide(self.source).shapes(self.tables))
        return self._shapes[table]

    def _mirrored(self) -> set[str]:
        """The tracked tables the DuckDB database holds (read once, then kept: added to
        as each copy made in a transaction commits)."""
        if self._held is None:
            rows = self.target.execute(
                "SELECT schema_name || '.' || table_name FROM duckdb_tables()"
            ).fetchall()
            self._held = {name for (name,) in rows}
        return self._held


def _typed(shape: Shape, values: Sequence[str]) -> list[str]:
    """Each column's text value (an expression) cast to the column's DuckDB type."""
    kinds = [kind for _, kind in shape.columns]
    return [f"CAST({value} AS {kind})" for value, kind in zip(values, kinds, strict=True)]


def _key_of(shape: Shape) -> list[int]:
    return [shape.names.index(column) for column in shape.key]


def _write_each(target: Database, table: str, shape: Shape, change: TableChanges) -> None:
    """A few rows, one statement each (parsed once): each changed key's row deleted, and
    inserted as it is now if it exists (two plain statements cost about 1.0 ms where
    DuckDB's ``INSERT OR REPLACE`` took 1.6)."""
    typed = _typed(shape, [f"${n}" for n in range(1, len(shape.columns) + 1)])
    key = _key_of(shape)
    match = " AND ".join(
        f"{column_list([shape.names[i]])} = CAST(${n} AS {shape.columns[i][1]})"
        for n, i in enumerate(key, start=1)
    )
    delete = target.parsed(f"DELETE FROM {table} WHERE {match}")
    insert = target.parsed(
        f"INSERT INTO {table} ({column_list(shape.names)}) VALUES ({', '.join(typed)})"
    )
    for present, *row in change.rows:
        if not change.whole:
            target.execute(delete, [row[i] for i in key])
        if present:
            target.execute(insert, row)


def _write_frame(cursor, table: str, shape: Shape, change: TableChanges) -> None:
    """Many rows, from a DataFrame of text: the changed keys deleted, the rows inserted."""
    frame = pd.DataFrame(change.rows, columns=["present", *shape.names], dtype=object)  # noqa: F841
    typed = _typed(shape, [column_list([name]) for name in shape.names])
    if not change.whole:
        chosen = ", ".join(typed[i] for i in _key_of(shape))
        cursor.execute(
            f"DELETE FROM {table} WHERE ({column_list(shape.key)}) IN (SELECT {chosen} FROM frame)"
        )
    cursor.execute(
        f"INSERT INTO {table} ({column_list(shape.names)}) "
        f"SELECT {', '.join(typed)} FROM frame WHERE present"
    )
