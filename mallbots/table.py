"""A plain table of rows keyed by id: the book's Postgres repositories for the modules
that are not event sourced (customers, payments, depot, notifications).

Rows go in and out as dicts; each module's repository turns them into its own frozen
dataclasses. Everything a caller provides travels as a bound parameter.

The table lives where the shop writes: in its DuckDB database, or on a shop kept in
PostgreSQL, in PostgreSQL (same name, columns, types and key; the modules' ``$n``
placeholders are translated there, see :mod:`mallbots.es.postgres.statements`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import pandas as pd

from mallbots.es import Database
from mallbots.es.duckdb.database import create_schema_of
from mallbots.es.identifiers import checked_identifier
from mallbots.frames import exact_frame

Row = dict[str, Any]


class Statements(Protocol):
    """What a table runs on its database: DDL, statements with ``$n`` placeholders, frames."""

    def create_table(self, name: str, body: str) -> None: ...

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Any: ...

    def write(self, sql: str, parameters: Sequence[Any] = ()) -> None: ...

    def frame(self, sql: str, parameters: Sequence[Any] = ()) -> pd.DataFrame: ...


class DuckDBStatements:
    """A table's statements on DuckDB, writes under the database's write lock."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def create_table(self, name: str, body: str) -> None:
        with self.database.writing() as cursor:
            create_schema_of(cursor, name)
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {name} ({body})")

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        return self.database.execute(sql, list(parameters))

    def write(self, sql: str, parameters: Sequence[Any] = ()) -> None:
        with self.database.writing():
            self.database.execute(sql, list(parameters))

    def frame(self, sql: str, parameters: Sequence[Any] = ()) -> pd.DataFrame:
        return exact_frame(self.database, sql, list(parameters) or None)


def statements_for(database: Any) -> Statements:
    """The statements of a table on ``database``: DuckDB's, or a server's own
    (a :class:`~mallbots.es.postgres.PostgresDatabase` gives them with ``statements()``)."""
    if isinstance(database, Database):
        return DuckDBStatements(database)
    return database.statements()


class Table:
    """One table, created if missing, with the few statements a plain module needs."""

    def __init__(
        self, database: Any, name: str, columns: Mapping[str, str], key: str = "id"
    ) -> None:
        self.database = database
        self.name = checked_identifier(name)
        self.columns = [checked_identifier(column) for column in columns]
        self.key = checked_identifier(key)
        self.statements = statements_for(database)
        definitions = ", ".join(f"{column} {kind}" for column, kind in columns.items())
        self.statements.create_table(self.name, f"{definitions}, PRIMARY KEY ({key})")

    def insert(self, row: Mapping[str, Any]) -> None:
        """Add a row (every column given). Check the key is free first: a refused insert
        would abort the caller's transaction."""
        placeholders = ", ".join(f"${i}" for i in range(1, len(self.columns) + 1))
        self.statements.write(
            f"INSERT INTO {self.name} ({', '.join(self.columns)}) VALUES ({placeholders})",
            [row[column] for column in self.columns],
        )

    def update(self, key: Any, **changes: Any) -> None:
        """Change some columns of the row with this key."""
        names = [checked_identifier(name) for name in changes]
        assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=2))
        self.statements.write(
            f"UPDATE {self.name} SET {assignments} WHERE {self.key} = $1",
            [key, *changes.values()],
        )

    def get(self, key: Any) -> Row | None:
        """The row with this key, or None."""
        rows = self.select(f"{self.key} = $1", [key])
        return rows[0] if rows else None

    def select(
        self, where: str = "true", parameters: Sequence[Any] = (), order_by: str | None = None
    ) -> list[Row]:
        """The rows matching ``where`` (SQL written by the module, values as parameters)."""
        result = self.statements.execute(
            f"SELECT {', '.join(self.columns)} FROM {self.name} WHERE {where} "
            f"ORDER BY {order_by or self.key}",
            list(parameters),
        ).fetchall()
        return [dict(zip(self.columns, values, strict=True)) for values in result]

    def frame(self, order_by: str | None = None) -> pd.DataFrame:
        """The whole table as a DataFrame."""
        return self.statements.frame(
            f"SELECT {', '.join(self.columns)} FROM {self.name} ORDER BY {order_by or self.key}",
        )
