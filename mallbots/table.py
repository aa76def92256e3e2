"""A plain DuckDB table of rows keyed by id: the book's Postgres repositories for the
modules that are not event sourced (customers, payments, depot, notifications).

Rows go in and out as dicts; each module's repository turns them into its own frozen
dataclasses. Everything a caller provides travels as a bound parameter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from mallbots.es import Database
from mallbots.es.duckdb.database import create_schema_of
from mallbots.es.identifiers import checked_identifier
from mallbots.frames import exact_frame

Row = dict[str, Any]


class Table:
    """One table, created if missing, with the few statements a plain module needs."""

    def __init__(
        self, database: Database, name: str, columns: Mapping[str, str], key: str = "id"
    ) -> None:
        self.database = database
        self.name = checked_identifier(name)
        self.columns = [checked_identifier(column) for column in columns]
        self.key = checked_identifier(key)
        definitions = ", ".join(f"{column} {kind}" for column, kind in columns.items())
        with database.writing() as cursor:
            create_schema_of(cursor, self.name)
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.name} ({definitions}, PRIMARY KEY ({key}))"
            )

    def insert(self, row: Mapping[str, Any]) -> None:
        """Add a row (every column given). Check the key is free first: a refused insert
        would abort the caller's transaction."""
        placeholders = ", ".join(f"${i}" for i in range(1, len(self.columns) + 1))
        with self.database.writing():
            self.database.execute(
                f"INSERT INTO {self.name} ({', '.join(self.columns)}) VALUES ({placeholders})",
                [row[column] for column in self.columns],
            )

    def update(self, key: Any, **changes: Any) -> None:
        """Change some columns of the row with this key."""
        names = [checked_identifier(name) for name in changes]
        assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=2))
        with self.database.writing():
            self.database.execute(
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
        result = self.database.execute(
            f"SELECT {', '.join(self.columns)} FROM {self.name} WHERE {where} "
            f"ORDER BY {order_by or self.key}",
            list(parameters),
        ).fetchall()
        return [dict(zip(self.columns, values, strict=True)) for values in result]

    def frame(self, order_by: str | None = None) -> pd.DataFrame:
        """The whole table as a DataFrame."""
        return exact_frame(
            self.database,
            f"SELECT {', '.join(self.columns)} FROM {self.name} ORDER BY {order_by or self.key}",
        )
