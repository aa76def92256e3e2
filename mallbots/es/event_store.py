"""The event store: the book's events table on DuckDB, with optimistic concurrency.

One table per module (``stores.events``, ``baskets.events``...), as in the book, plus a
``position`` column: a number, unique across every event table of the database, that
orders the whole log by commit.

Appending takes the version the caller last saw. If the stream has moved on, a
:class:`ConcurrencyError` says so and nothing is written. A save of many events is one
columnar INSERT: all of it lands or none of it does.

DuckDB charges about a quarter of a millisecond per statement, so the common paths use
as few as they can: a save is one INSERT, and the version check is answered from a
cache of stream heads kept under the write lock (the primary key stays the last word:
a row at a taken version is refused by DuckDB itself).

Reads are shaped for DuckDB's planner. It uses an index only for a scan with a single
equality filter on the indexed column; a second filter (the stream name, a version)
turns the scan into a sequential one over the whole table. So a stream is read by its
id alone, through the ``stream_id`` index, and the stream name, the version window and
the order are applied here, in Python, on a handful of rows. Only a load that skips
many events (after a snapshot of a long stream) filters the version in SQL, where the
zone maps skip the row groups that hold none of the newer events.
"""

from __future__ import annotations

import operator
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from itertools import count, islice

import duckdb
import pandas as pd

from mallbots.es import serde
from mallbots.es.aggregate import Aggregate
from mallbots.es.database import Database, checked_identifier
from mallbots.es.decoding import (
    STREAM_EVENT_COLUMNS,
    VERSION,
    Columns,
    decode_columns,
    fetch_columns,
)
from mallbots.es.errors import ConcurrencyError, CorruptEventError, DuplicateEventError
from mallbots.es.events import AggregateEvent
from mallbots.es.registry import Registry

StreamKey = tuple[str, str]
"""A stream is named by (stream_name, stream_id): ``("stores.Store", "store-1")``."""

_HEAD_CACHE_SIZE = 100_000

SKIP_IN_PYTHON = 256
"""A load that starts after fewer stored events than this reads the whole stream by id
(an index scan) and drops the older events here; one that skips more asks DuckDB to
filter the versions (a scan that zone maps shorten) rather than ship them over."""


class EventStore:
    """Events of one module in one DuckDB table; also the innermost aggregate store."""

    def __init__(self, database: Database, registry: Registry, table: str = "events") -> None:
        self.database = database
        self.registry = registry
        self.table = checked_identifier(table)
        self._heads: OrderedDict[StreamKey, int] = OrderedDict()
        self._appenders = threading.local()
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
        if not database.read_only:
            self._create_table()
        database.register_log_table(self.table)

    def _create_table(self) -> None:
        schema, _, name = self.table.rpartition(".")
        with self.database.writing() as cursor:
            if schema:
                cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            cursor.execute(
                f"""
                CREATE TABLE IF NOT EXISTS {self.table} (
                    position       BIGINT      NOT NULL,
                    stream_id      VARCHAR     NOT NULL,
                    stream_name    VARCHAR     NOT NULL,
                    stream_version INTEGER     NOT NULL,
                    event_id       UUID        NOT NULL UNIQUE,
                    event_name     VARCHAR     NOT NULL,
                    event_data     VARCHAR     NOT NULL,
                    metadata       VARCHAR     NOT NULL DEFAULT '{{}}',
                    occurred_at    TIMESTAMPTZ NOT NULL,
                    PRIMARY KEY (stream_id, stream_name, stream_version)
                )
                """
            )
            # The primary key cannot serve "all events of stream X" (DuckDB does not scan
            # a prefix of a composite key), so the stream id gets an index of its own.
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {name}_by_stream ON {self.table} (stream_id)"
            )

    # --- the aggregate store interface -----------------------------------------------------

    def load(self, aggregate: Aggregate) -> None:
        """Replay the aggregate's stored events after its current version."""
        for event in self.load_stream(
            aggregate.NAME, aggregate.id, after_version=aggregate.version
        ):
            aggregate.load_event(event)

    def save(self, aggregate: Aggregate) -> list[AggregateEvent]:
        """Append the aggregate's pending events, expecting its stored version."""
        return self.append(aggregate.NAME, aggregate.id, aggregate.version, aggregate.events)

    # --- appending -------------------------------------------------------------------------

    def append(
        self,
        stream_name: str,
        stream_id: str,
        expected_version: int,
        events: Sequence[AggregateEvent],
    ) -> list[AggregateEvent]:
        """Append events to a stream that must be at ``expected_version``.

        Returns the events as stored, each with its global position.
        """
        if not events:
            return []
        key = (stream_name, stream_id)
        rows = self._rows(key, expected_version, events)
        database = self.database
        with database.writing() as cursor:
            head = self._heads.get(key)
            if head is None and expected_version > 0:
                head = self._head_from_table(cursor, key)
            if head is not None and head != expected_version:
                raise ConcurrencyError(stream_name, stream_id, expected_version, head)
            first = database.claim_positions(len(rows))
            for offset, row in enumerate(rows):
                row[0] = first + offset
            try:
                self._insert(cursor, rows)
            except duckdb.ConstraintException:
                if not database.in_transaction:
                    database.release_positions(first)
                self._heads.pop(key, None)
                raise self._explain_refusal(key, expected_version, events) from None
            new_head = expected_version + len(rows)
            database.after_commit(
                lambda: self._remember_head(key, new_head),
                on_rollback=lambda: self._heads.pop(key, None),
            )
        return [
            _new_event(AggregateEvent, (*event[:-1], position))
            for event, position in zip(events, count(first))
        ]

    def _rows(
        self, key: StreamKey, expected_version: int, events: Sequence[AggregateEvent]
    ) -> list[list]:
        stream_name, stream_id = key
        serialize = self.registry.serialize
        dumps = serde.dumps
        rows = []
        version = expected_version
        for event in events:
            version += 1
            if event.aggregate_id != stream_id or event.aggregate_name != stream_name:
                raise ValueError(
                    f"event {event.name} belongs to {event.aggregate_name} "
                    f"{event.aggregate_id!r}, not to {stream_name} {stream_id!r}"
                )
            if event.aggregate_version != version:
                raise ValueError(
                    f"event {event.name} has version {event.aggregate_version}, expected {version}"
                )
            occurred_at = event.occurred_at
            if occurred_at.tzinfo is None:
                raise ValueError(f"event times must be timezone-aware, not {occurred_at!r}")
            rows.append(
                [
                    0,  # position: claimed under the write lock
                    stream_id,
                    stream_name,
                    version,
                    event.id,
                    event.name,
                    serialize(event.name, event.payload),
                    dumps(dict(event.metadata)) if event.metadata else "{}",
                    occurred_at,
                ]
            )
        return rows

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
    ) -> Exception:
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
        return DuplicateEventError([row[0] for row in taken] + repeated)

    def _head_from_table(self, cursor: duckdb.DuckDBPyConnection, key: StreamKey) -> int:
        heads = cursor.execute(self._select_heads, [key[1]]).fetchall()
        return dict(heads).get(key[0], 0)

    def _remember_head(self, key: StreamKey, version: int) -> None:
        heads = self._heads
        heads[key] = version
        heads.move_to_end(key)
        if len(heads) > _HEAD_CACHE_SIZE:
            heads.popitem(last=False)

    def forget_heads(self) -> None:
        """Drop the cache of stream heads (after editing the table by hand)."""
        with self.database.writing():
            self._heads.clear()

    # --- reading ---------------------------------------------------------------------------

    def stream_version(self, stream_name: str, stream_id: str) -> int:
        """The stored version of a stream (0 if it has no events)."""
        return self._head_from_table(self.database.cursor(), (stream_name, stream_id))

    def load_stream(
        self,
        stream_name: str,
        stream_id: str,
        after_version: int = 0,
        to_version: int | None = None,
    ) -> list[AggregateEvent]:
        """The events of one stream after ``after_version`` (up to ``to_version``), in order.

        A missing version in the stored sequence is reported as corruption.
        """
        if after_version < SKIP_IN_PYTHON:
            result = self.database.execute(self._select_stream, [stream_id])
        else:
            result = self.database.execute(self._select_stream_after, [stream_id, after_version])
        columns = _window(fetch_columns(result), stream_name, after_version, to_version)
        versions = columns[VERSION]
        if versions and (
            versions[0] != after_version + 1 or versions[-1] != after_version + len(versions)
        ):
            # strictly increasing, so the first version that is not its place's is missing
            expected = next(e for e, v in zip(count(after_version + 1), versions) if v != e)
            raise CorruptEventError(
                stream_name, stream_id, expected, f"version {expected} is missing from the stream"
            )
        return decode_columns(columns, self.registry, (stream_name, stream_id))

    def read_log(
        self, after_position: int = 0, batch_size: int = 1000
    ) -> Iterator[list[AggregateEvent]]:
        """This table's events after ``after_position``, in batches, in position order."""
        from mallbots.es.log import EventLog

        yield from EventLog(self.database, self.registry, [self.table]).batches(
            after_position, batch_size
        )

    def stream_frame(self, stream_name: str, stream_id: str) -> pd.DataFrame:
        """One stream as a DataFrame, one row per event."""
        return self.database.execute(
            "SELECT position, stream_version, event_name, event_data, occurred_at, "
            f"event_id::VARCHAR AS event_id FROM {self.table} "
            "WHERE stream_id = $1 AND stream_name = $2 ORDER BY stream_version",
            [stream_id, stream_name],
        ).df()

    def log_frame(self, after_position: int = 0, limit: int | None = None) -> pd.DataFrame:
        """This table's events as a DataFrame, in position order."""
        from mallbots.es.log import EventLog

        return EventLog(self.database, self.registry, [self.table]).frame(after_position, limit)

    def __repr__(self) -> str:
        return f"EventStore({self.table!r} on {self.database!r})"


_new_event = tuple.__new__


def _window(columns: Columns, stream_name: str, after: int, upper: int | None) -> Columns:
    """The rows of one stream (the last column is the stream name) in a version window,
    in version order."""
    names, versions = columns[-1], columns[VERSION]
    size = len(versions)
    if size and (
        names.count(stream_name) != size
        or min(versions) <= after
        or (upper is not None and max(versions) > upper)
    ):
        keep = [
            i
            for i, (name, version) in enumerate(zip(names, versions, strict=True))
            if name == stream_name and after < version and (upper is None or version <= upper)
        ]
        columns = [[column[i] for i in keep] for column in columns]
        versions = columns[VERSION]
    if not all(map(operator.lt, versions, islice(versions, 1, None))):
        order = sorted(range(len(versions)), key=versions.__getitem__)
        columns = [[column[i] for i in order] for column in columns]
    return columns
