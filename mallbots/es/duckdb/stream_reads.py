"""Reading a DuckDB event table: one stream, its version, the table's log and frames.

Reads are shaped for DuckDB's planner. It uses an index only for a scan with a single
equality filter on the indexed column; a second filter (the stream name, a version)
turns the scan into a sequential one over the whole table. So a stream is read by its
id alone, through the ``stream_id`` index, and the stream name, the version window and
the order are applied here, in Python, on a handful of rows. Only a load that skips
many events (after a snapshot of a long stream) filters the version in SQL, where the
zone maps skip the row groups that hold none of the newer events.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from mallbots.es.decoding import EVENT_COLUMNS, fetch_columns
from mallbots.es.duckdb.database import Database
from mallbots.es.event_rows import StreamKey, checked_stream
from mallbots.es.events import AggregateEvent
from mallbots.es.registry import Registry
from mallbots.es.snapshot_rebuild import LONG_STREAMS_SQL
from mallbots.es.stream_loading import StreamLoading

SKIP_IN_PYTHON = 256
"""A load that starts after fewer stored events than this reads the whole stream by id
(an index scan) and drops the older events here; one that skips more asks DuckDB to
filter the versions (a scan that zone maps shorten) rather than ship them over."""


class StreamReading(StreamLoading):
    """Part of :class:`~mallbots.es.duckdb.event_store.EventStore`: its reads."""

    database: Database
    registry: Registry
    table: str
    archive_table: str
    _select_stream: duckdb.Statement
    _select_stream_after: duckdb.Statement

    if TYPE_CHECKING:  # from StreamHeadCache, in the event store

        def _head_from_table(self, cursor: duckdb.DuckDBPyConnection, key: StreamKey) -> int: ...

    def stream_version(self, stream_name: str, stream_id: str) -> int:
        """The stored version of a stream (0 if it has no events)."""
        key = checked_stream(stream_name, stream_id)
        return self._head_from_table(self.database.cursor(), key)

    def _checked_key(self, stream_name: str, stream_id: str) -> StreamKey:
        return checked_stream(stream_name, stream_id)

    def _stream_columns(self, stream_name: str, stream_id: str, after_version: int) -> list[list]:
        if after_version < SKIP_IN_PYTHON:
            result = self.database.execute(self._select_stream, [stream_id])
        else:
            result = self.database.execute(self._select_stream_after, [stream_id, after_version])
        return fetch_columns(result)

    def stream_ids_at_least(self, stream_name: str, least_version: int) -> list[str]:
        """The ids of the streams named ``stream_name`` with at least ``least_version``
        events, sorted (for :func:`~mallbots.es.snapshot_rebuild.rebuild_snapshots`)."""
        sql = LONG_STREAMS_SQL.format(table=self.table)
        rows = self.database.execute(sql, [stream_name, least_version]).fetchall()
        return [id_ for (id_,) in rows]

    def streams_columns(self, stream_name: str, stream_ids: Sequence[str]) -> list[list]:
        """The events of these streams as columns, stream by stream, in version order."""
        return fetch_columns(
            self.database.execute(
                f"SELECT {EVENT_COLUMNS} FROM {self.table} WHERE stream_name = $1 "
                "AND stream_id IN (SELECT unnest($2::VARCHAR[])) "
                "ORDER BY stream_id, stream_version",
                [stream_name, list(stream_ids)],
            )
        )

    def read_log(
        self, after_position: int = 0, batch_size: int = 1000
    ) -> Iterator[list[AggregateEvent]]:
        """This table's events after ``after_position``, in batches, in position order."""
        from mallbots.es.duckdb.log import EventLog

        yield from EventLog(self.database, self.registry, [self.table]).batches(
            after_position, batch_size
        )

    def stream_frame(self, stream_name: str, stream_id: str) -> pd.DataFrame:
        """One stream as a DataFrame, one row per event (archived ones too)."""
        from mallbots.es.duckdb.log import EventLog

        archived = self.archive_table in self.database.log_tables
        tables = [self.table] + ([self.archive_table] if archived else [])
        return EventLog(self.database, self.registry, tables).stream_frame(stream_name, stream_id)

    def log_frame(self, after_position: int = 0, limit: int | None = None) -> pd.DataFrame:
        """This table's events as a DataFrame, in position order."""
        from mallbots.es.duckdb.log import EventLog

        return EventLog(self.database, self.registry, [self.table]).frame(after_position, limit)
