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
from psycopg import errors as pg_errors

from mallbots.es.identifiers import checked_identifier, schema_sql
from mallbots.es.postgres.changes import tracked_table_sql
from mallbots.es.postgres.database import PostgresDatabase
from mallbots.es.postgres.errors import RowTakenError, ServerBusyError
from mallbots.es.urls import shown_url

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
        """Create ``name`` (and its schema) with the column and key definitions ``body``,
        its changes tracked for the read side's copy (:mod:`mallbots.es.postgres.changes`)."""
        self.database.create(
            [
                *schema_sql(name),
                f"CREATE TABLE IF NOT EXISTS {name} ({body})",
                *tracked_table_sql(name),
            ]
        )

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> psycopg.Cursor:
        """Run one statement written with ``$n`` placeholders.

        Inside a transaction (a command), the rows a ``SELECT`` reads stay locked until
        it ends: a module reads a row, checks it and writes it back (a payment confirmed
        only if still unused), and another process doing the same to the same row must
        wait and then read what this one wrote, as commands take turns on DuckDB.
        """
        text, ordered = numbered(sql, parameters)
        if self.database.in_transaction and text.lstrip()[:6].upper() == "SELECT":
            text += " FOR UPDATE"
        try:
            return self.database.execute(text, ordered)  # [] too: psycopg then reads %% as %
        except pg_errors.DeadlockDetected:
            raise ServerBusyError(
                f"this command and another session's waited on each other's rows on "
                f"{shown_url(self.database.url)}, and the server stopped this one: nothing "
                "of it was written; run it again"
            ) from None

    def write(self, sql: str, parameters: Sequence[Any] = ()) -> None:
        """Run one statement that changes rows (in the caller's transaction, if one is open).

        A key another session took since the module checked it is refused by the
        server; that is told as such (run the command again: the module's check then
        sees the row)."""
        try:
            self.execute(sql, parameters)
        except pg_errors.UniqueViolation as error:
            raise RowTakenError(
                f"another session added the same key to {error.diag.table_name or 'a table'} "
                f"on {shown_url(self.database.url)} meanwhile ({error.diag.message_detail}): "
                "nothing of this command was written; run it again"
            ) from None

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
