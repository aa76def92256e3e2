"""DuckDB-style SQL on PostgreSQL: ``$1`` placeholders, run through psycopg's ``%s``.

The plain modules (customers, payments, depot, notifications) write their few
statements once, for :class:`mallbots.table.Table`, with DuckDB's numbered
placeholders. :class:`PostgresStatements` runs the same text on PostgreSQL: each
``$n`` becomes a ``%s`` with the n-th parameter in its place (a number may be used
twice, or out of order), and a literal ``%`` is doubled, as psycopg requires.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pandas as pd
import psycopg

from mallbots.es.database import checked_identifier
from mallbots.es.postgres.database import PostgresDatabase
from mallbots.es.postgres.schema import schema_sql

_NUMBERED = re.compile(r"\$(\d+)")


def numbered(sql: str, parameters: Sequence[Any] = ()) -> tuple[str, list[Any]]:
    """``sql`` with ``$n`` placeholders turned into psycopg's, and the parameters in order."""
    ordered: list[Any] = []

    def placeholder(match: re.Match[str]) -> str:
        number = int(match[1])
        if not 1 <= number <= len(parameters):
            raise ValueError(f"${number} in {sql!r}, but {len(parameters)} parameters were given")
        ordered.append(parameters[number - 1])
        return "%s"

    return _NUMBERED.sub(placeholder, sql.replace("%", "%%")), ordered


class PostgresStatements:
    """What a :class:`~mallbots.table.Table` runs, on a PostgreSQL database."""

    def __init__(self, database: PostgresDatabase) -> None:
        self.database = database

    def create_table(self, name: str, body: str) -> None:
        """Create ``name`` (and its schema) with the column and key definitions ``body``."""
        self.database.create([*schema_sql(name), f"CREATE TABLE IF NOT EXISTS {name} ({body})"])

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> psycopg.Cursor:
        """Run one statement written with ``$n`` placeholders."""
        text, ordered = numbered(sql, parameters)
        return self.database.execute(text, ordered)  # [] too: then psycopg reads %% as %

    def write(self, sql: str, parameters: Sequence[Any] = ()) -> None:
        """Run one statement that changes rows (in the caller's transaction, if one is open)."""
        self.execute(sql, parameters)

    def sorted_frame(self, table: str) -> pd.DataFrame:
        """A whole table as a DataFrame, ordered by every column (DuckDB's ``ORDER BY ALL``)."""
        table = checked_identifier(table)
        width = len(self.database.execute(f"SELECT * FROM {table} LIMIT 0").description)
        order = ", ".join(str(column) for column in range(1, width + 1))
        return self.frame(f"SELECT * FROM {table} ORDER BY {order}")

    def frame(self, sql: str, parameters: Sequence[Any] = ()) -> pd.DataFrame:
        """The result of one statement as a DataFrame (``NUMERIC`` stays ``Decimal``)."""
        cursor = self.execute(sql, parameters)
        columns = [column.name for column in cursor.description or []]
        return pd.DataFrame(cursor.fetchall(), columns=columns)
