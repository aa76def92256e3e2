"""The event store on PostgreSQL: the same behaviour as the DuckDB one, for many processes.

An append is one statement, one round trip to the server
(:mod:`mallbots.es.postgres.append_statement`): it reads the streams' heads; only if
each is where the caller expects does it claim the positions (which locks the log's
counter until the transaction ends, see :mod:`mallbots.es.postgres.schema`) and insert
every row. Outside a transaction the
statement is its own transaction; inside one it joins it. A stream that is not where
the caller expects claims and writes nothing, and is a :class:`ConcurrencyError`: the
caller's transaction can carry on. The heads are read in the statement's snapshot,
which is taken before it waits for the counter: an append that commits while this one
waits is missing from them, but it took the version this one would write, so the
primary key refuses the insert, and that refusal is a :class:`ConcurrencyError` too
(as for a writer that bypasses the counter). An event id already stored is a
:class:`DuplicateEventError`; a payload that cannot be stored is refused before
anything is sent.

No stream heads are cached: other processes move the streams. Closed streams move to
``<table>_archive`` as on DuckDB (:mod:`mallbots.es.postgres.archive`).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence

import psycopg
from psycopg import errors as pg_errors

from mallbots.es.aggregate import Aggregate
from mallbots.es.decoding import (
    OCCURRED_US,
    STREAM_NAME,
    columns_of_rows,
    decode_stream_columns,
)
from mallbots.es.errors import ConcurrencyError, DuplicateEventError
from mallbots.es.event_rows import (
    EventRows,
    StreamAppend,
    StreamKey,
    checked_stream,
    unstorable,
)
from mallbots.es.events import AggregateEvent
from mallbots.es.identifiers import checked_identifier
from mallbots.es.postgres.append_statement import append_parameters, append_sql
from mallbots.es.postgres.archive import PostgresArchiving
from mallbots.es.postgres.database import PostgresDatabase
from mallbots.es.postgres.schema import event_table_sql
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
_TAKEN_VERSION = re.compile(r"=\((?P<id>.*), (?P<name>[^,]*), (?P<version>\d+)\) already exists")


class PostgresEventStore(EventRows, StreamLoading, PostgresArchiving):
    """Events of one module in one PostgreSQL table; also the innermost aggregate store."""

    def __init__(
        self, database: PostgresDatabase, registry: Registry, table: str = "events"
    ) -> None:
        self.database = database
        self.registry = registry
        self.table = checked_identifier(table)
        self._schema_versions: dict[str, int] = {}  # for the row builder borrowed below
        self._cursors = threading.local()
        self._snapshot_and_stream: dict[str, str] = {}
        """By snapshot table: the query of :meth:`snapshot_and_stream`."""
        database.create(event_table_sql(self.table))
        database.refresh_log_tables()
        select = f"SELECT {STREAM_EVENT_COLUMNS}, stream_name FROM {self.table} "
        self._select_stream = (
            select + "WHERE stream_id = %s AND stream_name = %s AND stream_version > %s "
            "ORDER BY stream_version"
        )
        self._select_head = (
            f"SELECT coalesce(max(stream_version), 0) FROM {self.table} "
            "WHERE stream_id = %s AND stream_name = %s"
        )
        self._select_heads = (
            f"SELECT stream_name, stream_id, max(stream_version) FROM {self.table} "
            "WHERE (stream_id, stream_name) IN (SELECT * FROM unnest(%s::text[], %s::text[])) "
            "GROUP BY stream_name, stream_id"
        )

    # --- the aggregate store interface -----------------------------------------------------

    def load(self, aggregate: Aggregate) -> None:
        """Replay the aggregate's stored events after its current version."""
        for event in self.load_stream(
            aggregate.NAME, aggregate.stream_id, after_version=aggregate.version
        ):
            aggregate.load_event(event)

    # --- appending -------------------------------------------------------------------------

    def save(
        self, aggregate: Aggregate, snapshot: tuple[str, Callable[[], list]] | None = None
    ) -> list[AggregateEvent]:
        """Append the aggregate's pending events, expecting its stored version.

        ``snapshot``: a snapshot table and what makes the row to upsert there, in the
        append's own statement, only if the events are written (the row is made after
        the events are checked and serialized, before anything is sent).
        """
        return self.append(
            aggregate.NAME,
            aggregate.stream_id,
            aggregate.version,
            aggregate.events,
            aggregate_id=aggregate.id,
            snapshot=snapshot,
        )

    def append(
        self,
        stream_name: str,
        stream_id: str,
        expected_version: int,
        events: Sequence[AggregateEvent],
        *,
        aggregate_id: str | None = None,
        snapshot: tuple[str, Callable[[], list]] | None = None,
    ) -> list[AggregateEvent]:
        """Append events to a stream that must be at ``expected_version``.

        Returns the events as stored, each with its global position. ``snapshot``: as
        for :meth:`save`.
        """
        if isinstance(expected_version, bool) or not isinstance(expected_version, int):
            raise TypeError(f"an expected version is an int, not {expected_version!r}")
        if expected_version < 0:
            raise ValueError(f"an expected version cannot be negative: {expected_version}")
        appends = [StreamAppend(stream_name, stream_id, expected_version, events, aggregate_id)]
        rows = self.prepare(appends).rows
        snapshot_row = None if snapshot is None else (snapshot[0], snapshot[1]())
        first = self._write(appends, rows, snapshot_row)
        return [event._replace(position=first + i) for i, event in enumerate(events)]

    def append_many(self, appends: Sequence[StreamAppend]) -> int:
        """Append to many streams in one transaction and one INSERT: all of it, or none.

        Each stream must be at its expected version; a stream may appear more than once
        if each append takes up where the one before left it. Positions follow the
        order of ``appends``. Returns how many events were written.
        """
        rows = self.prepare(appends).rows
        self._write(appends, rows)
        return len(rows)

    def _write(
        self,
        appends: Sequence[StreamAppend],
        rows: list[list],
        snapshot: tuple[str, list] | None = None,
    ) -> int:
        """Check the heads, claim positions and insert the rows in one statement (with a
        snapshot table's row upserted, if given); the first position."""
        if not rows:
            return 0
        for name, stream_id, *_ in appends:
            storable_stream(name, stream_id)
        expected = self._expected_heads(appends)
        streams = [(name, stream_id, version) for (name, stream_id), version in expected.items()]
        sql = append_sql(self.table, len(streams), len(rows), snapshot and snapshot[0])
        parameters = append_parameters(streams, rows)
        if snapshot is not None:
            parameters += snapshot[1]
        database = self.database
        outermost = not database.in_transaction
        try:
            with database.translated_errors():
                found = self._cursor().execute(sql, parameters).fetchall()
        except pg_errors.UniqueViolation as error:
            detail = error.diag.message_detail or ""
            if "event_id" in detail:
                raise _duplicates(appends, detail) from None
            raise self._conflict(appends, detail, outermost) from None
        except psycopg.DataError as error:
            raise _unstorable_batch(appends, error) from None
        before = found[0][1]
        if before is None:  # a stream was not where expected: nothing was claimed or written
            for ((name, stream_id), version), (head, _) in zip(
                expected.items(), found, strict=True
            ):
                if head != version:
                    raise ConcurrencyError(name, stream_id, version, head)
        return before + 1

    def _expected_heads(self, appends: Sequence[StreamAppend]) -> dict[StreamKey, int]:
        """Where each stream must stand before the batch: its first append's expected
        version (in order of first appearance).

        A stream's later appends must each take up where the one before left it; if
        one does not, the batch is refused as the stored heads say, before anything
        is sent to be written.
        """
        firsts: dict[StreamKey, int] = {}
        heads: dict[StreamKey, int] = {}
        for name, stream_id, version, events, _ in appends:
            key = (name, stream_id)
            if heads.setdefault(key, version) != version:
                with self.database.translated_errors():
                    self._check_heads(self.database.connection().cursor(), appends)
            firsts.setdefault(key, version)
            heads[key] = version + len(events)
        return firsts

    def _check_heads(self, cursor: psycopg.Cursor, appends: Sequence[StreamAppend]) -> None:
        """Refuse the batch if any stream is not where its append expects it."""
        keys = {(name, stream_id) for name, stream_id, *_ in appends}
        stored = self._heads(cursor, keys)
        heads: dict[StreamKey, int] = {}
        for name, stream_id, expected, events, _ in appends:
            key = (name, stream_id)
            head = heads.get(key, stored[key])
            if head != expected:
                raise ConcurrencyError(name, stream_id, expected, head)
            heads[key] = expected + len(events)

    def _heads(self, cursor: psycopg.Cursor, keys: set[StreamKey]) -> dict[StreamKey, int]:
        """The stored versions of many streams in one query (0 for a stream with none)."""
        names, ids = zip(*sorted(keys), strict=True)
        found = cursor.execute(self._select_heads, [list(ids), list(names)]).fetchall()
        heads = dict.fromkeys(keys, 0)
        heads.update({(name, stream_id): head for name, stream_id, head in found})
        return heads

    def _conflict(
        self, appends: Sequence[StreamAppend], detail: str, outermost: bool
    ) -> ConcurrencyError:
        """The conflict an insert met at the primary key: another writer took a version.

        After our own transaction rolled back, the stream's head is read; inside the
        caller's (which PostgreSQL has aborted) the version taken is all there is to say.
        """
        match = _TAKEN_VERSION.search(detail)
        name, stream_id, expected, *_ = appends[0]
        if match:
            name, stream_id = match["name"], match["id"]
            expected = next((a[2] for a in appends if a[:2] == (name, stream_id)), expected)
        if outermost:
            actual = self.stream_version(name, stream_id)
        else:
            actual = int(match["version"]) if match else expected + 1
        return ConcurrencyError(name, stream_id, expected, actual)

    def _cursor(self) -> psycopg.Cursor:
        """This thread's cursor for appends and stream reads, kept while its connection
        lasts: a new psycopg cursor for each statement cost about 3 us of a 70 us append.
        Each use fetches its whole result before the next."""
        connection = self.database.connection()
        cursor = getattr(self._cursors, "cursor", None)
        if cursor is None or cursor.connection is not connection:
            cursor = self._cursors.cursor = connection.cursor()
        return cursor

    # --- reading ---------------------------------------------------------------------------

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

    def __repr__(self) -> str:
        return f"PostgresEventStore({self.table!r} on {self.database!r})"


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


def _duplicates(appends: Sequence[StreamAppend], detail: str) -> DuplicateEventError:
    """The event ids the server found taken (it names one), and any repeated in the batch."""
    ids = [event.id for append in appends for event in append.events]
    repeated = {event_id for event_id, n in Counter(ids).items() if n > 1}
    named = {event_id for event_id in ids if event_id in detail}
    return DuplicateEventError(sorted(named | repeated))


def _unstorable_batch(appends: Sequence[StreamAppend], error: psycopg.DataError) -> ValueError:
    """A refusal of the values themselves, told in the events' terms."""
    events = [event for append in appends for event in append.events]
    problem = unstorable(events) or f"a value PostgreSQL cannot store ({str(error).strip()})"
    names = sorted({f"{a.stream_name} {a.stream_id!r}" for a in appends})
    return ValueError(f"cannot store events of {', '.join(names)}: {problem}; nothing was written")
