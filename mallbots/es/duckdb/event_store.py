"""The event store: the book's events table on DuckDB, with optimistic concurrency.

One table per module (``stores.events``, ``baskets.events``...), as in the book, plus a
``position`` column: a number, unique across every event table of the database, that
orders the whole log by commit.

Appending takes the version the caller last saw. If the stream has moved on, a
:class:`ConcurrencyError` says so and nothing is written. A save of many events is one
INSERT: all of it lands or none of it does.

DuckDB charges about a quarter of a millisecond per statement, so the common paths use
as few as they can: a save is one INSERT, and the version check is answered from a
cache of stream heads. The store is assembled from one part per job:

=====================  ===========================================================
job                    module
=====================  ===========================================================
one append, a load     here
events made into rows  :mod:`mallbots.es.event_rows` (shared with PostgreSQL)
bulk appending         :mod:`~mallbots.es.duckdb.bulk_append`
stream-head cache      :mod:`~mallbots.es.duckdb.stream_heads`
archiving              :mod:`~mallbots.es.duckdb.archive`
reading                :mod:`~mallbots.es.duckdb.stream_reads`
columns and DDL        :mod:`~mallbots.es.duckdb.schema`
=====================  ===========================================================
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from itertools import count

import duckdb

from mallbots.es.aggregate import Aggregate
from mallbots.es.decoding import STREAM_EVENT_COLUMNS
from mallbots.es.duckdb.archive import Archiving
from mallbots.es.duckdb.bulk_append import BulkAppending, named_in, version_taken_in
from mallbots.es.duckdb.database import Database, checked_identifier
from mallbots.es.duckdb.schema import event_table_sql
from mallbots.es.duckdb.stream_heads import StreamHeadCache
from mallbots.es.duckdb.stream_reads import StreamReading
from mallbots.es.errors import ConcurrencyError, DuplicateEventError
from mallbots.es.event_rows import (
    EventRows,
    StreamKey,
    archive_table_of,
    checked_expected_version,
    checked_stream,
    unstorable,
)
from mallbots.es.events import AggregateEvent
from mallbots.es.registry import Registry


class EventStore(EventRows, BulkAppending, StreamHeadCache, Archiving, StreamReading):
    """Events of one module in one DuckDB table; also the innermost aggregate store."""

    def __init__(self, database: Database, registry: Registry, table: str = "events") -> None:
        self.database = database
        self.registry = registry
        self.table = checked_identifier(table)
        self._heads: OrderedDict[StreamKey, int] = OrderedDict()
        self._heads_as_of = 0  # the table's removals when the cached heads were last valid
        self._schema_versions: dict[str, int] = {}  # event name -> its registered version
        self._appenders = threading.local()
        self.archive_table = archive_table_of(self.table)
        if not database.read_only:
            self._create_table()
        database.log_book.register(self.table, database.execute)
        if database.has_table(self.archive_table):
            database.log_book.register(self.archive_table, database.execute)
        select = (
            f"SELECT {STREAM_EVENT_COLUMNS}, stream_name FROM {self.table} WHERE stream_id = $1"
        )
        self._select_stream = database.parsed(select)
        self._select_stream_after = database.parsed(select + " AND stream_version > $2")
        # Grouped by name so that the only filter is the indexed stream id.
        self._select_heads = database.parsed(
            f"SELECT stream_name, max(stream_version) FROM {self.table} "
            "WHERE stream_id = $1 GROUP BY stream_name"
        )

    def _create_table(self, table: str | None = None) -> None:
        table = table or self.table
        with self.database.writing() as cursor:
            for statement in event_table_sql(table):
                cursor.execute(statement)

    # --- the aggregate store interface -----------------------------------------------------

    def load(self, aggregate: Aggregate) -> None:
        """Replay the aggregate's stored events after its current version."""
        removals = self.database.log_book.removals(self.table)
        for event in self.load_stream(
            aggregate.NAME, aggregate.stream_id, after_version=aggregate.version
        ):
            aggregate.load_event(event)
        self._head_loaded((aggregate.NAME, aggregate.stream_id), aggregate.version, removals)

    # --- appending -------------------------------------------------------------------------

    def append(
        self,
        stream_name: str,
        stream_id: str,
        expected_version: int,
        events: Sequence[AggregateEvent],
        *,
        aggregate_id: str | None = None,
    ) -> list[AggregateEvent]:
        """Append events to a stream that must be at ``expected_version``.

        The events belong to ``aggregate_id`` (by default the stream's id; another id
        makes this a continuation stream, and each row records it in its metadata).
        Returns the events as stored, each with its global position.
        """
        key = checked_stream(stream_name, stream_id)
        checked_expected_version(expected_version)
        if not events:
            return []
        rows: list[list] = []
        self._rows(key, aggregate_id or stream_id, expected_version, events, rows, 0)
        database = self.database
        with database.writing() as cursor:
            head = self._cached_heads().get(key)
            if head != expected_version and (head is not None or expected_version > 0):
                # No cached head, or one that disagrees: the cache only knows this
                # store's saves, and another store on the same table may have moved the
                # stream since. The table decides.
                head = self._head_from_table(cursor, key)
                if head != expected_version:
                    self._heads.pop(key, None)
                    raise ConcurrencyError(stream_name, stream_id, expected_version, head)
            first = database.log_book.claim_positions(len(rows))
            for row in rows:
                row[0] += first
            try:
                self._insert(cursor, rows)
            except BaseException as error:
                # Nothing was inserted: give the positions back (in a transaction too, in
                # case the caller carries on), or the log would have a hole.
                database.log_book.release_positions(first)
                self._heads.pop(key, None)
                if isinstance(error, duckdb.Error):
                    raise self._explain_refusal(key, expected_version, events, error) from None
                raise
            new_head = expected_version + len(rows)
            # Until the commit, only the transaction's own cursor sees the new head: a
            # second save in it from a copy at the old head must ask the table, not the
            # cache, to be refused as a conflict (not by the primary key, unexplained).
            self._heads.pop(key, None)
            database.after_commit(
                lambda: self._remember_head(key, new_head),
                on_rollback=lambda: self._heads.pop(key, None),
            )
        return [
            _new_event(AggregateEvent, (*event[:-1], position))
            for event, position in zip(events, count(first))
        ]

    def _insert(self, cursor: duckdb.DuckDBPyConnection, rows: list[list]) -> None:
        appender = getattr(self._appenders, "appender", None)
        if appender is None:  # one per thread, like the thread's cursor
            appender = self._appenders.appender = cursor.appender(self.table)
        cursor.complete()  # an appender refuses to flush while a read is half-fetched
        try:
            appender.append_rows(rows)
            appender.flush()
        except BaseException:
            appender.clear()
            raise

    def _explain_refusal(
        self,
        key: StreamKey,
        expected_version: int,
        events: Sequence[AggregateEvent],
        error: duckdb.Error,
    ) -> Exception:
        """The error to raise for an insert DuckDB refused, in the caller's terms."""
        problem = unstorable(events)
        if problem:
            return ValueError(
                f"cannot store events of {key[0]} {key[1]!r}: {problem}; nothing was written"
            )
        if not isinstance(error, duckdb.ConstraintException):
            return error
        # DuckDB aborts an open transaction on a failed statement: look from a fresh cursor.
        with self.database.fresh_cursor() as cursor:
            head = self._head_from_table(cursor, key)
            if head != expected_version:
                return ConcurrencyError(key[0], key[1], expected_version, head)
            ids = [event.id for event in events]
            taken = cursor.execute(
                f"SELECT event_id::VARCHAR FROM {self.table} "
                "WHERE event_id IN (SELECT unnest($1::UUID[]))",
                [ids],
            ).fetchall()
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        duplicates = [row[0] for row in taken] + repeated or named_in(error, ids)
        if duplicates:
            return DuplicateEventError(duplicates)
        version = version_taken_in(error, key)
        if version is not None:  # taken earlier in this transaction, by another store
            return ConcurrencyError(key[0], key[1], expected_version, version)
        return error

    def __repr__(self) -> str:
        return f"EventStore({self.table!r} on {self.database!r})"


_new_event = tuple.__new__
