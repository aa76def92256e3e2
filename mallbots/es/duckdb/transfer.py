"""DuckDB's side of a copy (:mod:`mallbots.es.transfer`): its tables read and written as
CSV, by ``COPY ... TO`` and ``read_csv``, inside DuckDB.

The source or the target of a copy to or from PostgreSQL, or from one file into another.
As the target, the copied event tables join the database's log (its book), so the log
continues after the copied one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from mallbots.es.duckdb.database import Database
from mallbots.es.duckdb.schema import event_table_sql, snapshot_table_sql
from mallbots.es.identifiers import schema_sql
from mallbots.es.transfer import Kind, Shape, column_list, csv_columns, quoted, shapes_of


class DuckDBSide:
    """A DuckDB database as the source or the target of a copy."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def __repr__(self) -> str:
        return str(self.database.path)

    def errors(self) -> AbstractContextManager[None]:
        return nullcontext()  # DuckDB's errors are explained where they are caught

    def shapes(self, tables: Sequence[str]) -> dict[str, Shape]:
        wanted = [table if "." in table else f"main.{table}" for table in tables]
        columns = self.database.execute(
            "SELECT schema_name || '.' || table_name, column_name, data_type, NOT is_nullable "
            "FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name || '.' || table_name IN (SELECT unnest($1::VARCHAR[])) "
            "ORDER BY table_name, column_index",
            [wanted],
        ).fetchall()
        keys = self.database.execute(
            "SELECT schema_name || '.' || table_name, constraint_column_names "
            "FROM duckdb_constraints() WHERE database_name = current_database() "
            "AND constraint_type = 'PRIMARY KEY'"
        ).fetchall()
        return shapes_of(tables, wanted, columns, keys)

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self.database.transaction():
            yield

    def transaction(self) -> AbstractContextManager[Any]:
        return self.database.transaction()

    def create(self, cursor: Any, table: str, kind: Kind, shape: Shape) -> None:
        if kind == "events":
            statements = event_table_sql(table)
        elif kind == "snapshots":
            statements = snapshot_table_sql(table)
        else:  # continuations too: DuckDB's own declaration is the source's
            statements = [*schema_sql(table), shape.create_sql(table)]
        for statement in statements:
            cursor.execute(statement)

    def export(self, table: str, columns: Sequence[str], order: Sequence[str], path: Path) -> int:
        order_by = f" ORDER BY {column_list(order)}" if order else ""
        (count,) = self.database.execute(
            f"COPY (SELECT {column_list(columns)} FROM {table}{order_by}) TO '{quoted(path)}' "
            "(FORMAT csv, HEADER false)"
        ).fetchone()
        return count

    def load(self, cursor: Any, table: str, shape: Shape, path: Path) -> int:
        (count,) = cursor.execute(
            f"INSERT INTO {table} ({column_list(shape.names)}) SELECT * FROM read_csv("
            f"'{quoted(path)}', columns = {csv_columns(shape)}, header = false, "
            "auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
            "allow_quoted_nulls = false)"
        ).fetchone()
        return count

    def continue_log(self, cursor: Any, events: Sequence[str]) -> None:
        def register() -> None:
            for table in events:
                self.database.log_book.register(table, self.database.execute)

        self.database.after_commit(register)
