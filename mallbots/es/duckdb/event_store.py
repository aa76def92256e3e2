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

A bulk load appends to many streams at once with :meth:`EventStore.append_many`: every
stream's expected version is checked first, then all the rows go in as one columnar
INSERT, so a conflict in any stream writes nothing.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from itertools import count

import duckdb
import pandas as pd

from mallbots.es.aggregate import Aggregate
from mallbots.es.decoding import STREAM_EVENT_COLUMNS, decode_stream
from mallbots.es.duckdb.database import Database, checked_identifier, create_schema_of
from mallbots.es.duckdb.frames import frame_of_rows
from mallbots.es.duckdb.schema import event_table_sql
from mallbots.es.errors import ConcurrencyError, DuplicateEventError
from mallbots.es.event_rows import (
    EventRows,
    PreparedAppends,
    StreamAppend,
    StreamKey,
    checked_stream,
    unstorable,
)
from mallbots.es.events import AggregateEvent
from mallbots.es.registry import Registry

_HEAD_CACHE_SIZE = 100_000
_APPENDED = (
    "position",
    "stream_id",
    "stream_name",
    "stream_version",
    "event_id",
    "event_name",
    "event_data",
    "metadata",
    "occurred_at",
)
APPEND_COLUMNS = ", ".join(_APPENDED)
OFFSET_COLUMNS = ", ".join(["position + $1", *_APPENDED[1:]])
"""What a columnar INSERT selects from prepared rows, whose positions are offsets."""


SKIP_IN_PYTHON = 256
"""A load that starts after fewer stored events than this reads the whole stream by id
(an index scan) and drops the older events here; one that skips more asks DuckDB to
filter the versions (a scan that zone maps shorten) rather than ship them over."""


class EventStore(EventRows):
    """Events of one module in one DuckDB table; also the innermost aggregate store."""

    def __init__(self, database: Database, registry: Registry, table: str = "events") -> None:
        self.database = database
        self.registry = registry
        self.table = checked_identifier(table)
        self._heads: OrderedDict[StreamKey, int] = OrderedDict()
        self._heads_as_of = 0  # the table's removals when the cached heads were last valid
        self._schema_versions: dict[str, int] = {}  # event name -> its registered version
        self._appenders = threading.local()
        self.archive_table = checked_identifier(f"{self.table}_archive")
        if not database.read_only:
            self._create_table()
        database.register_log_table(self.table)
        if self._archive_exists():
            database.register_log_table(self.archive_table)
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
            create_schema_of(cursor, table)
            for statement in event_table_sql(table):
                cursor.execute(statement)

    # --- the aggregate store interface -----------------------------------------------------

    def load(self, aggregate: Aggregate) -> None:
        """Replay the aggregate's stored events after its current version."""
        removals = self.database.removals(self.table)
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
        if isinstance(expected_version, bool) or not isinstance(expected_version, int):
            raise TypeError(f"an expected version is an int, not {expected_version!r}")
        if expected_version < 0:
            raise ValueError(f"an expected version cannot be negative: {expected_version}")
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
            first = database.claim_positions(len(rows))
            for row in rows:
                row[0] += first
            try:
                self._insert(cursor, rows)
            except BaseException as error:
                # Nothing was inserted: give the positions back (in a transaction too, in
                # case the caller carries on), or the log would have a hole.
                database.release_positions(first)
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

    def append_many(
        self, appends: Sequence[StreamAppend], positions: Sequence[int] | None = None
    ) -> int:
        """Append to many streams in one columnar INSERT: all of it, or none of it.

        Each stream must be at its expected version; a stream may appear more than once
        if each append takes up where the one before left it. Positions follow the
        order of ``appends``, unless the caller passes ``positions`` (one per event, in
        order, claimed with :meth:`Database.claim_positions` in the caller's open
        transaction) to interleave several tables in the order the events happened.
        Returns how many events were written.
        """
        return self.append_prepared(self.prepare(appends), positions)

    def append_prepared(
        self,
        prepared: PreparedAppends,
        positions: Sequence[int] | None = None,
        *,
        first: int | None = None,
    ) -> int:
        """The database half of :meth:`append_many`, for appends made by :meth:`prepare`.

        Positions are claimed here for rows prepared without offsets; ``first`` (claimed
        by the caller in its open transaction) puts each event at ``first`` plus its
        offset; ``positions`` gives them one by one, in order.
        """
        appends, rows = prepared
        if not rows:
            return 0
        database = self.database
        with database.transaction() as cursor:
            new_heads = self._check_heads(cursor, appends)
            if positions is not None:
                if len(positions) != len(rows):
                    raise ValueError(f"{len(positions)} positions for {len(rows)} events")
                rows = [[position, *row[1:]] for row, position in zip(rows, positions, strict=True)]
                first = 0
            elif first is None:
                first = database.claim_positions(len(rows))
            try:
                self._insert_columns(cursor, rows, first)
            except duckdb.ConstraintException as error:
                for key in new_heads:
                    self._heads.pop(key, None)
                raise self._explain_bulk_refusal(appends, error) from None
            except duckdb.ConversionException:
                problem = unstorable([event for append in appends for event in append.events])
                if problem is None:
                    raise
                raise ValueError(
                    f"cannot store the batch: {problem}; nothing was written"
                ) from None
            for key in new_heads:  # as in append: the table knows them first
                self._heads.pop(key, None)
            database.after_commit(
                lambda: [self._remember_head(k, v) for k, v in new_heads.items()],
                on_rollback=lambda: [self._heads.pop(k, None) for k in new_heads],
            )
        return len(rows)

    def _check_heads(
        self, cursor: duckdb.DuckDBPyConnection, appends: Sequence[StreamAppend]
    ) -> dict[StreamKey, int]:
        """Refuse the batch if any stream is not where its append expects it; new heads.

        As for one append, a cached head that disagrees is checked against the table:
        another store on the same table may have moved the stream.
        """
        cache = self._cached_heads()
        heads: dict[StreamKey, int] = {}  # where each stream stands after its appends
        first_expected: dict[StreamKey, int] = {}  # streams the table must confirm
        for name, stream_id, expected, events, _ in appends:
            key = (name, stream_id)
            head = heads.get(key)
            if head is None:
                cached = cache.get(key)
                if cached != expected and (cached is not None or expected > 0):
                    first_expected[key] = expected
            elif head != expected:
                raise ConcurrencyError(name, stream_id, expected, head)
            heads[key] = expected + len(events)
        stored = self._heads_from_table(cursor, set(first_expected))
        for key, expected in first_expected.items():
            if stored[key] != expected:
                cache.pop(key, None)
                raise ConcurrencyError(key[0], key[1], expected, stored[key])
        return heads

    def _heads_from_table(
        self, cursor: duckdb.DuckDBPyConnection, keys: set[StreamKey]
    ) -> dict[StreamKey, int]:
        """The stored versions of many streams in one query (0 for a stream with none)."""
        if not keys:
            return {}
        names, ids = zip(*sorted(keys), strict=True)
        found = cursor.execute(
            f"SELECT e.stream_name, e.stream_id, max(e.stream_version) FROM {self.table} e "
            "JOIN (SELECT unnest($1::VARCHAR[]) AS n, unnest($2::VARCHAR[]) AS i) k "
            "ON e.stream_id = k.i AND e.stream_name = k.n GROUP BY ALL",
            [list(names), list(ids)],
        ).fetchall()
        heads = dict.fromkeys(keys, 0)
        heads.update({(name, id_): head for name, id_, head in found})
        return heads

    def _explain_bulk_refusal(
        self, appends: Sequence[StreamAppend], error: duckdb.ConstraintException
    ) -> Exception:
        # The failed INSERT aborted the transaction: look from a fresh cursor.
        ids = [event.id for append in appends for event in append.events]
        with self.database.fresh_cursor() as cursor:
            stored = self._heads_from_table(cursor, {(a[0], a[1]) for a in appends})
            taken = cursor.execute(
                f"SELECT event_id::VARCHAR FROM {self.table} "
                "WHERE event_id IN (SELECT unnest($1::UUID[]))",
                [ids],
            ).fetchall()
        for name, stream_id, expected, *_ in appends:
            if expected < stored[(name, stream_id)]:
                return ConcurrencyError(name, stream_id, expected, stored[(name, stream_id)])
        repeated = [event_id for event_id, n in Counter(ids).items() if n > 1]
        duplicates = sorted({row[0] for row in taken} | set(repeated)) or _named_in(error, ids)
        return DuplicateEventError(duplicates) if duplicates else error

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

    def _insert_columns(
        self, cursor: duckdb.DuckDBPyConnection, rows: list[list], first: int
    ) -> None:
        """Insert many rows as one columnar INSERT from a DataFrame, positions from ``first``."""
        appended = frame_of_rows(rows, _APPENDED)  # noqa: F841 (DuckDB reads it by name)
        cursor.execute(
            f"INSERT INTO {self.table} ({APPEND_COLUMNS}) SELECT {OFFSET_COLUMNS} FROM appended",
            [first],
        )

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
        duplicates = [row[0] for row in taken] + repeated or _named_in(error, ids)
        return DuplicateEventError(duplicates) if duplicates else error

    def _head_from_table(self, cursor: duckdb.DuckDBPyConnection, key: StreamKey) -> int:
        heads = cursor.execute(self._select_heads, [key[1]]).fetchall()
        return dict(heads).get(key[0], 0)

    def _head_loaded(self, key: StreamKey, version: int, removals: int) -> None:
        """Remember the head a load read to, so the save that follows need not ask the table.

        Only a head that cannot be ahead of the table: none if events were removed
        since the read began, and, inside a transaction (whose own events the read may
        have seen), forgotten if it rolls back. One that another writer has passed
        since is harmless, as the save it lets through is refused by the primary key.
        A load never waits for a writer: if another thread holds the lock, the head is
        not kept.
        """
        database = self.database
        if not database.write_lock.acquire(blocking=False):
            return
        try:
            if removals != database.removals(self.table):
                return
            self._remember_head(key, version)
            database.on_rollback(lambda: self._heads.pop(key, None))
        finally:
            database.write_lock.release()

    def _remember_head(self, key: StreamKey, version: int) -> None:
        heads = self._heads
        heads[key] = version
        heads.move_to_end(key)
        if len(heads) > _HEAD_CACHE_SIZE:
            heads.popitem(last=False)

    def forget_heads(self) -> None:
        """Drop the cache of stream heads (after editing the table by hand), in every
        event store on the table."""
        with self.database.writing():
            self.database.count_removal(self.table)  # each store empties its own on its next use

    def _cached_heads(self) -> OrderedDict[StreamKey, int]:
        """The cached heads, emptied first if events left the table since they were valid."""
        removals = self.database.removals(self.table)
        if removals != self._heads_as_of:
            self._heads.clear()
            self._heads_as_of = removals
        return self._heads

    # --- archiving -------------------------------------------------------------------------

    def archive(self, streams: Iterable[StreamKey]) -> int:
        """Move whole streams ``(stream_name, stream_id)`` to ``<table>_archive``.

        For streams that never change again (their books are closed): the hot table,
        which every save and load searches, keeps only living streams, while the global
        log (and so every rebuild and time travel) still reads the archived events.
        One transaction; returns how many events moved.
        """
        names, ids = [list(column) for column in zip(*streams, strict=True)] or ([], [])
        if not names:
            return 0
        if not self._archive_exists():
            self._create_table(self.archive_table)
            self.database.register_log_table(self.archive_table)
        where = "(stream_name, stream_id) IN (SELECT unnest($1), unnest($2))"
        with self.database.transaction() as cursor:
            cursor.execute(
                f"INSERT INTO {self.archive_table} SELECT * FROM {self.table} WHERE {where}",
                [names, ids],
            )
            (moved,) = cursor.execute(
                f"DELETE FROM {self.table} WHERE {where}", [names, ids]
            ).fetchone()
            # An archived stream has no head here any more: a save from a copy loaded
            # before the move must be checked against the table, and so refused. Every
            # store on the table empties its cache of heads when it sees the count move.
            self.database.count_removal(self.table)
        return moved

    def _archive_exists(self) -> bool:
        schema, _, name = self.archive_table.rpartition(".")
        (found,) = self.database.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_catalog = current_database() AND table_schema = $1 AND table_name = $2",
            [schema or "main", name],
        ).fetchone()
        return found > 0

    # --- reading ---------------------------------------------------------------------------

    def stream_version(self, stream_name: str, stream_id: str) -> int:
        """The stored version of a stream (0 if it has no events)."""
        key = checked_stream(stream_name, stream_id)
        return self._head_from_table(self.database.cursor(), key)

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
        checked_stream(stream_name, stream_id)
        if after_version < 0:
            raise ValueError(f"after_version cannot be negative: {after_version}")
        if after_version < SKIP_IN_PYTHON:
            result = self.database.execute(self._select_stream, [stream_id])
        else:
            result = self.database.execute(self._select_stream_after, [stream_id, after_version])
        return decode_stream(
            result, self.registry, stream_name, stream_id, after_version, to_version
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

    def __repr__(self) -> str:
        return f"EventStore({self.table!r} on {self.database!r})"


def _named_in(error: duckdb.Error, event_ids: Sequence[str]) -> list[str]:
    """The event ids DuckDB's refusal names: the only word on an id that the same
    transaction wrote before, which no other cursor can see."""
    message = str(error)
    return sorted({event_id for event_id in event_ids if event_id in message})


_new_event = tuple.__new__
