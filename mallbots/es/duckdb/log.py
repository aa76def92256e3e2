"""The global log on DuckDB: every event of every event table, in position order.

Positions are handed out under the database's write lock as events commit, so the log
is read in commit order and a reader never sees a lower position appear later. Batches
are read by position *range* (``position > a AND position <= b``), so DuckDB skips the
rest of the table by its zone maps and each batch costs the same however long the log.

A statement costs DuckDB a fixed fraction of a millisecond, so the windows and batches
(:class:`mallbots.es.global_log.GlobalLog`, shared with PostgreSQL) ask for many
batches' worth of positions at once, by column, and cut them into the caller's
batches, decoding each only when it is reached. Only the SQL is here.
"""

from __future__ import annotations

import operator
from collections.abc import Collection
from itertools import islice

import pandas as pd

from mallbots.es.decoding import (
    AGGREGATE_ID_SQL,
    EVENT_COLUMNS,
    POSITION,
    fetch_columns,
)
from mallbots.es.duckdb.database import Database
from mallbots.es.global_log import GlobalLog, checked_count

STREAM_FRAME_COLUMNS = (
    "position, stream_version, event_name, event_data, occurred_at, event_id::VARCHAR AS event_id"
)
FRAME_COLUMNS = (
    "position, stream_name, stream_id, stream_version, event_name, event_data, occurred_at, "
    "event_id::VARCHAR AS event_id"
)

__all__ = ["EventLog", "checked_count"]


class EventLog(GlobalLog):
    """Reads the events of several tables (default: all of the database's) as one log."""

    aggregate_id_sql = AGGREGATE_ID_SQL
    range_where = "position > $1 AND position <= $2"
    names_where = " AND event_name IN (SELECT unnest($3::VARCHAR[]))"
    database: Database

    def _read_columns(
        self, after_position: int, up_to: int, names: Collection[str] | None = None
    ) -> list[list]:
        where, parameters = self._range_filter(after_position, up_to, names)
        sql = self.database.parsed(self._union(EVENT_COLUMNS, where))
        columns = fetch_columns(self.database.execute(sql, parameters))
        positions = columns[POSITION]
        # A scan returns rows in insertion order, which is position order unless rows
        # were written by hand or come from several tables: sort only then.
        if not all(map(operator.lt, positions, islice(positions, 1, None))):
            order = sorted(range(len(positions)), key=positions.__getitem__)
            columns = [[column[i] for i in order] for column in columns]
        return columns

    def _stream_columns(self, stream_name: str, stream_id: str, after_version: int) -> list[list]:
        """The whole stream from every table (cut to the window by ``load_stream``): one
        equality filter, so DuckDB uses each table's stream_id index."""
        sql = self.database.parsed(self._union(EVENT_COLUMNS + ", stream_name", "stream_id = $1"))
        return fetch_columns(self.database.execute(sql, [stream_id]))

    def stream_frame(self, stream_name: str, stream_id: str) -> pd.DataFrame:
        """One stream as a DataFrame, one row per event, from whichever table holds it."""
        sql = self._union(STREAM_FRAME_COLUMNS, "stream_id = $1 AND stream_name = $2")
        return self.database.execute(
            f"{sql} ORDER BY stream_version", [stream_id, stream_name]
        ).df()

    def frame(self, after_position: int = 0, limit: int | None = None) -> pd.DataFrame:
        """The log as a DataFrame (payloads as JSON text), in position order."""
        after_position = checked_count(after_position, "after_position")
        if limit is not None:
            limit = checked_count(limit, "limit")
        if not self.tables:  # no event store yet: empty, as count() says
            return pd.DataFrame(columns=[c.split(" AS ")[-1] for c in FRAME_COLUMNS.split(", ")])
        sql = self._union(FRAME_COLUMNS, "position > $1") + " ORDER BY position"
        parameters: list = [after_position]
        if limit is not None:
            sql += " LIMIT $2"
            parameters.append(limit)
        return self.database.execute(sql, parameters).df()

    def _frame(self, sql: str, parameters: list | None = None) -> pd.DataFrame:
        return self.database.execute(sql, parameters).df()
