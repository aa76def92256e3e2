"""Closed books on PostgreSQL: which stream each aggregate lives in now.

The same table and answers as :class:`mallbots.es.books.Continuations`, with no copy
in memory: another process may close an aggregate's books at any time, so the newest
stream is read from the table on every load (one lookup by the primary key).
"""

from __future__ import annotations

from mallbots.es.books import continuation_id
from mallbots.es.identifiers import checked_identifier
from mallbots.es.postgres.database import PostgresDatabase
from mallbots.es.postgres.schema import continuations_table_sql


class PostgresContinuations:
    """Which stream each aggregate whose books were closed lives in now."""

    def __init__(self, database: PostgresDatabase, table: str) -> None:
        self.database = database
        self.table = checked_identifier(table)
        database.create(continuations_table_sql(self.table))

    def current(self, stream_name: str, aggregate_id: str) -> tuple[int, str]:
        """``(period, stream_id)`` of the stream an aggregate lives in now."""
        row = self.database.execute(
            f"SELECT period, stream_id FROM {self.table} WHERE stream_name = %s "
            "AND aggregate_id = %s ORDER BY period DESC LIMIT 1",
            [stream_name, aggregate_id],
        ).fetchone()
        return (1, aggregate_id) if row is None else (row[0], row[1])

    def streams(self, stream_name: str, aggregate_id: str) -> list[str]:
        """Every stream of an aggregate's life, oldest first."""
        later = self.database.execute(
            f"SELECT stream_id FROM {self.table} "
            "WHERE stream_name = %s AND aggregate_id = %s ORDER BY period",
            [stream_name, aggregate_id],
        ).fetchall()
        return [aggregate_id] + [stream_id for (stream_id,) in later]

    def record(self, stream_name: str, aggregate_id: str, period: int, stream_id: str) -> None:
        """Point the aggregate at its new stream (in the caller's transaction)."""
        self.database.execute(
            f"INSERT INTO {self.table} VALUES (%s, %s, %s, %s)",
            [stream_name, aggregate_id, period, stream_id],
        )

    def closed_streams(self) -> list[tuple[str, str]]:
        """``(stream_name, stream_id)`` of every stream whose books were closed."""
        rows = self.database.execute(
            f"SELECT stream_name, aggregate_id, period FROM {self.table} ORDER BY 1, 2, 3"
        ).fetchall()
        return [(name, continuation_id(name, id_, period - 1)) for name, id_, period in rows]
