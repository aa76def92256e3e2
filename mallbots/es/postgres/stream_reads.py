"""Reading streams from the PostgreSQL event store: the part of
:class:`~mallbots.es.postgres.event_store.PostgresEventStore` that loads.

A stream's events after a version, its stored version (what the aggregate cache asks
before each hit), a snapshot and the events after it in one query (what a snapshot
store's load asks), and many streams at once as columns (what a snapshot rebuild
reads). Each is one statement on the thread's own cursor; the rows are cut to the
window, checked for gaps and decoded by :class:`~mallbots.es.stream_loading.StreamLoading`,
as on DuckDB.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

import psycopg

from mallbots.es.decoding import (
    OCCURRED_US,
    STREAM_NAME,
    columns_of_rows,
    decode_stream_columns,
)
from mallbots.es.event_rows import StreamKey, checked_stream
from mallbots.es.events import AggregateEvent
from mallbots.es.identifiers import checked_identifier
from mallbots.es.postgres.database import PostgresDatabase
from mallbots.es.postgres.schema import head_sql
from mallbots.es.postgres.statements import numbered
from mallbots.es.registry import Registry
from mallbots.es.snapshot_rebuild import LONG_STREAMS_SQL
from mallbots.es.stream_loading import StreamLoading

STREAM_EVENT_COLUMNS = (
    "position, stream_version, event_id::text, event_name, event_data, metadata, "
    "(extract(epoch FROM occurred_at) * 1000000)::bigint"
)
"""The columns :func:`mallbots.es.decoding.decode_columns` expects, in PostgreSQL's SQL."""
EVENT_COLUMNS = STREAM_EVENT_COLUMNS + ", stream_id, stream_name"


class PostgresStreamReads(StreamLoading):
    """Part of the PostgreSQL event store: reading one stream, or many, from ``table``."""

    database: PostgresDatabase
    registry: Registry
    table: str

    def _prepare_reads(self) -> None:
        """The read statements of this table, and this thread's cursor's home."""
        self._cursors = threading.local()
        self._snapshot_and_stream: dict[str, str] = {}
        """By snapshot table: the query of :meth:`snapshot_and_stream`."""
        select = f"SELECT {STREAM_EVENT_COLUMNS}, stream_name FROM {self.table} "
        self._select_stream = (
            select + "WHERE stream_id = %s AND stream_name = %s AND stream_version > %s "
            "ORDER BY stream_version"
        )
        self._select_head = f"SELECT coalesce(({head_sql(self.table)}), 0)"

    def _cursor(self) -> psycopg.Cursor:
        """This thread's cursor for appends and stream reads, kept while its connection
        lasts: a new psycopg cursor for each statement cost about 3 us of a 70 us append.
        Each use fetches its whole result before the next."""
        connection = self.database.connection()
        cursor = getattr(self._cursors, "cursor", None)
        if cursor is None or cursor.connection is not connection:
            cursor = self._cursors.cursor = connection.cursor()
        return cursor

    def stream_version(self, stream_name: str, stream_id: str) -> int:
        """The stored version of a stream (0 if it has no events): one small query, on
        the primary key's index, which the aggregate cache asks before each hit."""
        storable_stream(stream_name, stream_id)
        with self.database.translated_errors():
            cursor = self._cursor().execute(self._select_head, [stream_id, stream_name])
            return cursor.fetchone()[0]

    def _checked_key(self, stream_name: str, stream_id: str) -> StreamKey:
        return storable_stream(stream_name, stream_id)

    def snapshot_and_stream(
        self, snapshot_table: str, stream_name: str, stream_id: str
    ) -> tuple[tuple[int, str, str] | None, list[AggregateEvent]]:
        """A stream's snapshot row in ``snapshot_table`` (or None) and its events after
        it, in one query: one round trip where reading them in turn took two."""
        storable_stream(stream_name, stream_id)
        sql = self._snapshot_and_stream.get(snapshot_table)
        if sql is None:
            sql = self._snapshot_and_stream[snapshot_table] = snapshot_and_stream_sql(
                checked_identifier(snapshot_table), self.table
            )
        with self.database.translated_errors():
            rows = self._cursor().execute(sql, {"id": stream_id, "name": stream_name}).fetchall()
        version, name, data = rows[0][:3]
        stored = None if version is None else (version, name, data)
        events = [row[3:] for row in rows if row[3] is not None]
        columns = columns_of_rows(events, OCCURRED_US + 2)
        after = 0 if stored is None else version
        return stored, decode_stream_columns(columns, self.registry, stream_name, stream_id, after)

    def _stream_columns(self, stream_name: str, stream_id: str, after_version: int) -> list[list]:
        with self.database.translated_errors():
            rows = (
                self._cursor()
                .execute(self._select_stream, [stream_id, stream_name, after_version])
                .fetchall()
            )
        return columns_of_rows(rows, OCCURRED_US + 2)  # the stream's columns, then its name

    def stream_ids_at_least(self, stream_name: str, least_version: int) -> list[str]:
        """The ids of the streams named ``stream_name`` with at least ``least_version``
        events, sorted (for :func:`~mallbots.es.snapshot_rebuild.rebuild_snapshots`)."""
        sql = numbered(LONG_STREAMS_SQL.format(table=self.table), [stream_name, least_version])
        return [id_ for (id_,) in self.database.execute(*sql).fetchall()]

    def streams_columns(self, stream_name: str, stream_ids: Sequence[str]) -> list[list]:
        """The events of these streams as columns, stream by stream, in version order."""
        rows = self.database.execute(
            f"SELECT {EVENT_COLUMNS} FROM {self.table} WHERE stream_name = %s "
            "AND stream_id = ANY(%s) ORDER BY stream_id, stream_version",
            [stream_name, list(stream_ids)],
        ).fetchall()
        return columns_of_rows(rows, STREAM_NAME + 1)

    def read_log(
        self, after_position: int = 0, batch_size: int = 1000
    ) -> Iterator[list[AggregateEvent]]:
        """This table's events after ``after_position``, in batches, in position order."""
        from mallbots.es.postgres.log import PostgresLog

        yield from PostgresLog(self.database, self.registry, [self.table]).batches(
            after_position, batch_size
        )


def snapshot_and_stream_sql(snapshot_table: str, event_table: str) -> str:
    """The snapshot's version, name and data (NULL if none), then the columns of each
    event after it, a row per event (one row of NULLs after the snapshot if none).

    The snapshot's version is a sub-query's result, so the events are read from the
    primary key's index from just after it (joined, they were read from the stream's
    first event and filtered)."""
    return (
        f"WITH s AS (SELECT stream_version, snapshot_name, snapshot_data FROM {snapshot_table} "
        "WHERE stream_id = %(id)s AND stream_name = %(name)s) "
        "SELECT s.stream_version, s.snapshot_name, s.snapshot_data, e.* "
        "FROM (VALUES (1)) AS one (n) LEFT JOIN s ON true "
        f"LEFT JOIN (SELECT {STREAM_EVENT_COLUMNS}, stream_name FROM {event_table} "
        "WHERE stream_id = %(id)s AND stream_name = %(name)s "
        "AND stream_version > coalesce((SELECT stream_version FROM s), 0)) e ON true "
        "ORDER BY e.stream_version"
    )


def storable_stream(stream_name: str, stream_id: str) -> StreamKey:
    """The stream key, if PostgreSQL can hold it: text without a NUL character."""
    key = checked_stream(stream_name, stream_id)
    for what, value in (("stream name", stream_name), ("stream id", stream_id)):
        if "\x00" in value:
            raise ValueError(
                f"the {what} {value!r} holds a NUL character, which PostgreSQL cannot store "
                "in text; use another"
            )
    return key
