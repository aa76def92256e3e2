"""Copy the global log between a DuckDB database and a PostgreSQL one, either way.

How a shop moves from the embedded default to the server (and back, to read it offline):
every event table of the log (archives too) is copied whole, with its positions, event
ids, payloads, metadata and times unchanged, in one transaction on the target. The
target's tables must be empty, so that no position is used twice; the target's log
then continues after the copied one.

Only the log moves: snapshots are a cache that the target rebuilds as it saves, read
models are rebuilt from the log, and the shop's plain module tables (customers,
payments...) are not copied yet.
"""

from __future__ import annotations

from mallbots.es.duckdb.database import Database, create_schema_of
from mallbots.es.duckdb.frames import frame_of_rows
from mallbots.es.duckdb.schema import APPENDED as APPENDED_COLUMNS
from mallbots.es.duckdb.schema import event_table_sql as duckdb_event_table_sql
from mallbots.es.postgres.database import PostgresDatabase
from mallbots.es.postgres.schema import POSITION_TABLE
from mallbots.es.postgres.schema import event_table_sql as postgres_event_table_sql

COLUMNS = APPENDED_COLUMNS
"""An event table's columns, in the order the DuckDB store appends them."""
_SELECT = ", ".join("event_id::text" if c == "event_id" else c for c in COLUMNS)
_CHUNK = 50_000


def copy_log_to_postgres(source: Database, target: PostgresDatabase) -> int:
    """Copy every event table of a DuckDB database into PostgreSQL; how many events."""
    tables = list(source.log_tables)
    copied = 0
    with target.transaction() as cursor:
        for table in tables:
            for statement in postgres_event_table_sql(table):
                cursor.execute(statement)
            _refuse_if_not_empty(cursor.execute(f"SELECT count(*) FROM {table}"), table, target)
            result = source.execute(f"SELECT {_SELECT} FROM {table} ORDER BY position")
            with cursor.copy(f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                while rows := result.fetchmany(_CHUNK):
                    for row in rows:
                        copy.write_row(row)
                    copied += len(rows)
        cursor.execute(
            f"UPDATE {POSITION_TABLE} SET last_position = greatest(last_position, %s)",
            [source.last_position],
        )
    target.refresh_log_tables()
    return copied


def copy_log_to_duckdb(source: PostgresDatabase, target: Database) -> int:
    """Copy every event table of a PostgreSQL database into DuckDB; how many events."""
    tables = list(source.refresh_log_tables())
    copied = 0
    with target.transaction() as cursor:
        for table in tables:
            create_schema_of(cursor, table)
            for statement in duckdb_event_table_sql(table):
                cursor.execute(statement)
            _refuse_if_not_empty(cursor.execute(f"SELECT count(*) FROM {table}"), table, target)
            result = source.connection().cursor(name=None)
            result.execute(f"SELECT {_SELECT} FROM {table} ORDER BY position")
            while rows := result.fetchmany(_CHUNK):
                copied_rows = frame_of_rows(rows, COLUMNS)  # noqa: F841 (read by the SQL)
                cursor.execute(
                    f"INSERT INTO {table} ({', '.join(COLUMNS)}) "
                    f"SELECT {', '.join(COLUMNS)} FROM copied_rows"
                )
                copied += len(rows)
    for table in tables:
        target.log_book.register(table, target.execute)
    return copied


def _refuse_if_not_empty(result, table: str, target: object) -> None:
    (count,) = result.fetchone()
    if count:
        raise ValueError(
            f"cannot copy the log into {target!r}: its table {table} already holds {count} "
            "events, and copied positions would collide with them. Copy into a new, empty "
            "database; nothing was copied."
        )
