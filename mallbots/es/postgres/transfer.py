"""PostgreSQL's side of a copy (:mod:`mallbots.es.transfer`): its tables read and written
with ``COPY``, in CSV.

How a shop moves from the embedded default to the server, and back to read it offline.
As the target, the server's log continues after the copied one: the position counter
is moved past the highest copied position in the copying transaction. As the source,
every table is read in one ``REPEATABLE READ`` transaction: one consistent state of the
log, even while other processes append.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from mallbots.es.duckdb.database import Database
from mallbots.es.duckdb.transfer import DuckDBSide
from mallbots.es.postgres.changes import tracked_table_sql
from mallbots.es.postgres.database import PostgresDatabase, shown_url
from mallbots.es.postgres.schema import (
    DDL_LOCK,
    LOG_SQL,
    continuations_table_sql,
    event_table_sql,
    position_past_sql,
    schema_sql,
    snapshot_table_sql,
)
from mallbots.es.transfer import (
    Copied,
    Kind,
    Plan,
    Shape,
    TransferError,
    column_list,
    copy_tables,
    shapes_of,
)

_BLOCK = 1 << 20
"""Bytes written to the server per call while loading a table."""

_DUCKDB_TYPES = {
    "character varying": "VARCHAR",
    "text": "VARCHAR",
    "boolean": "BOOLEAN",
    "smallint": "SMALLINT",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "date": "DATE",
    "uuid": "UUID",
    "timestamp without time zone": "TIMESTAMP",
    "timestamp with time zone": "TIMESTAMP WITH TIME ZONE",
}
_NUMERIC = re.compile(r"^numeric\((\d+),(\d+)\)$")


def duckdb_type(postgres_type: str) -> str:
    """The DuckDB name of a PostgreSQL column type (as ``format_type`` spells it)."""
    if match := _NUMERIC.match(postgres_type):
        return f"DECIMAL({match[1]},{match[2]})"
    return _DUCKDB_TYPES.get(postgres_type, postgres_type.upper())


class PostgresSide:
    """A PostgreSQL database as the source or the target of a copy."""

    def __init__(self, database: PostgresDatabase) -> None:
        self.database = database

    def __repr__(self) -> str:
        return shown_url(self.database.url)

    @contextmanager
    def errors(self) -> Iterator[None]:
        """The server's refusals as :class:`TransferError`, naming the server, not its password."""
        try:
            yield
        except psycopg.Error as error:
            raise TransferError(
                f"PostgreSQL at {self!r} refused the copy: {str(error).strip()}; nothing was copied"
            ) from None

    def shapes(self, tables: Sequence[str]) -> dict[str, Shape]:
        wanted = [table if "." in table else f"public.{table}" for table in tables]
        columns = [
            (table, name, duckdb_type(kind), required)
            for table, name, kind, required in self.database.execute(
                "SELECT n.nspname || '.' || c.relname, a.attname, "
                "format_type(a.atttypid, a.atttypmod), a.attnotnull "
                "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') "
                "AND n.nspname || '.' || c.relname = ANY(%s) ORDER BY c.oid, a.attnum",
                [wanted],
            ).fetchall()
        ]
        keys = self.database.execute(
            "SELECT n.nspname || '.' || c.relname, array_agg(a.attname ORDER BY k.n) "
            "FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum "
            "WHERE i.indisprimary AND n.nspname || '.' || c.relname = ANY(%s) GROUP BY 1",
            [wanted],
        ).fetchall()
        return shapes_of(tables, wanted, columns, keys)

    @contextmanager
    def reading(self) -> Iterator[Any]:
        with self.database.transaction() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield cursor

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Cursor]:
        """The copying transaction, holding the DDL lock, with the log's bookkeeping made."""
        with self.database.transaction() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [DDL_LOCK])
            for statement in LOG_SQL:
                cursor.execute(statement)
            yield cursor

    def create(self, cursor: psycopg.Cursor, table: str, kind: Kind, shape: Shape) -> None:
        if kind == "events":
            statements = event_table_sql(table)
        elif kind == "snapshots":
            statements = snapshot_table_sql(table)
        elif kind == "continuations":
            statements = continuations_table_sql(table)
        else:
            statements = [*schema_sql(table), shape.create_sql(table)]
            if shape.key:  # a shop's plain table: tracked, as the shop makes it
                statements += tracked_table_sql(table)
        for statement in statements:
            cursor.execute(statement)

    def export(self, table: str, columns: Sequence[str], order: Sequence[str], path: Path) -> int:
        order_by = f" ORDER BY {column_list(order)}" if order else ""
        cursor = self.database.connection().cursor()
        rows = f"SELECT {column_list(columns)} FROM {table}{order_by}"
        with path.open("wb") as file, cursor.copy(f"COPY ({rows}) TO STDOUT (FORMAT csv)") as copy:
            for block in copy:
                file.write(block)
        return cursor.rowcount

    def load(self, cursor: psycopg.Cursor, table: str, shape: Shape, path: Path) -> int:
        """COPY the rows in, with the (empty) table's keys built once over them afterwards
        rather than row by row: dropped and added again, with the same names and definitions."""
        keys = cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('p', 'u') ORDER BY conname",
            [table],
        ).fetchall()
        for name, _ in keys:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        into = f"{table} ({column_list(shape.names)})"
        with path.open("rb") as file, cursor.copy(f"COPY {into} FROM STDIN (FORMAT csv)") as copy:
            while block := file.read(_BLOCK):
                copy.write(block)
        loaded = cursor.rowcount
        for name, definition in keys:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        return loaded

    def continue_log(self, cursor: psycopg.Cursor, events: Sequence[str]) -> None:
        for table in events:
            cursor.execute(position_past_sql(table))
        self.database.after_commit(self.database.refresh_log_tables)


def copy_log_to_postgres(source: Database, target: PostgresDatabase) -> int:
    """Copy every event table of a DuckDB database into PostgreSQL; how many events."""
    return _copied_events(DuckDBSide(source), PostgresSide(target), source.log_tables)


def copy_log_to_duckdb(source: PostgresDatabase, target: Database) -> int:
    """Copy every event table of a PostgreSQL database into DuckDB; how many events."""
    return _copied_events(PostgresSide(source), DuckDBSide(target), source.refresh_log_tables())


def _copied_events(source, target, tables: Sequence[str]) -> int:
    copied: Copied = copy_tables(source, target, Plan(events=tuple(tables)))
    return copied.total
