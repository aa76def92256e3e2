"""The global log on PostgreSQL: every event table's events, in position order.

Windows, batches and single events are read as on DuckDB, by
:class:`mallbots.es.global_log.GlobalLog`; only the SQL is here. Positions are claimed in
commit order (see :mod:`mallbots.es.postgres.schema`), so a reader that remembers the
last position it read and asks for ``position > checkpoint`` misses nothing, however many
processes write.
"""

from __future__ import annotations

from collections.abc import Collection

import pandas as pd

from mallbots.es.decoding import AGGREGATE_ID, OCCURRED_US, STREAM_NAME, columns_of_rows
from mallbots.es.event_rows import StreamKey
from mallbots.es.global_log import GlobalLog, checked_count
from mallbots.es.postgres.database import PostgresDatabase
from mallbots.es.postgres.stream_reads import (
    EVENT_COLUMNS,
    STREAM_EVENT_COLUMNS,
    storable_stream,
)

_FRAME_COLUMNS = (
    "position, stream_name, stream_id, stream_version, event_name, event_data, occurred_at, "
    "event_id::text AS event_id"
)


class PostgresLog(GlobalLog):
    """Reads the events of several tables (default: every event table of the database)."""

    aggregate_id_sql = f"coalesce(metadata::jsonb->>'{AGGREGATE_ID}', stream_id)"
    range_where = "position > %s AND position <= %s"
    names_where = " AND event_name = ANY(%s)"
    database: PostgresDatabase

    def _refresh_tables(self) -> None:
        self.database.refresh_log_tables()

    def _read_columns(
        self, after_position: int, up_to: int, names: Collection[str] | None = None
    ) -> list[list]:
        where, parameters = self._range_filter(after_position, up_to, names)
        tables = self.tables
        sql = self._union(EVENT_COLUMNS, where) + " ORDER BY position"
        rows = self.database.execute(sql, parameters * len(tables)).fetchall()
        return columns_of_rows(rows, STREAM_NAME + 1)

    def _checked_key(self, stream_name: str, stream_id: str) -> StreamKey:
        return storable_stream(stream_name, stream_id)

    def _stream_columns(self, stream_name: str, stream_id: str, after_version: int) -> list[list]:
        """The stream's events after ``after_version``, from every table."""
        where = "stream_id = %s AND stream_name = %s AND stream_version > %s"
        sql = self._union(STREAM_EVENT_COLUMNS + ", stream_name", where)
        sql += " ORDER BY stream_version"
        parameters = [stream_id, stream_name, after_version] * len(self.tables)
        rows = self.database.execute(sql, parameters).fetchall()
        return columns_of_rows(rows, OCCURRED_US + 2)  # the stream's columns, then its name

    def stream_frame(self, stream_name: str, stream_id: str) -> pd.DataFrame:
        """One stream as a DataFrame, one row per event."""
        sql = self._union(_FRAME_COLUMNS, "stream_id = %s AND stream_name = %s")
        return self._frame(
            f"{sql} ORDER BY stream_version", [stream_id, stream_name] * len(self.tables)
        )

    def frame(self, after_position: int = 0, limit: int | None = None) -> pd.DataFrame:
        """The log as a DataFrame (payloads as JSON text), in position order."""
        after_position = checked_count(after_position, "after_position")
        sql = self._union(_FRAME_COLUMNS, "position > %s") + " ORDER BY position"
        parameters: list = [after_position] * len(self.tables)
        if limit is not None:
            sql += " LIMIT %s"
            parameters.append(checked_count(limit, "limit"))
        return self._frame(sql, parameters)

    def _frame(self, sql: str, parameters: list | None = None) -> pd.DataFrame:
        cursor = self.database.execute(sql, parameters)
        return pd.DataFrame(cursor.fetchall(), columns=[c.name for c in cursor.description])
