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

No stream heads are cached: other processes move the streams. Reading streams is
:mod:`mallbots.es.postgres.stream_reads`; closed streams move to ``<table>_archive`` as
on DuckDB (:mod:`mallbots.es.postgres.archive`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence

import psycopg
from psycopg import errors as pg_errors

from mallbots.es.aggregate import Aggregate
from mallbots.es.errors import ConcurrencyError, DuplicateEventError
from mallbots.es.event_rows import (
    EventRows,
    StreamAppend,
    StreamKey,
    checked_expected_version,
    unstorable,
)
from mallbots.es.events import AggregateEvent
from mallbots.es.identifiers import checked_identifier
from mallbots.es.postgres.append_statement import append_parameters, append_sql
from mallbots.es.postgres.archive import PostgresArchiving
from mallbots.es.postgres.database import PostgresDatabase
from mallbots.es.postgres.schema import event_table_sql
from mallbots.es.postgres.stream_reads import PostgresStreamReads, storable_stream
from mallbots.es.registry import Registry

_TAKEN_VERSION = re.compile(r"=\((?P<id>.*), (?P<name>[^,]*), (?P<version>\d+)\) already exists")


class PostgresEventStore(EventRows, PostgresStreamReads, PostgresArchiving):
    """Events of one module in one PostgreSQL table; also the innermost aggregate store."""

    def __init__(
        self, database: PostgresDatabase, registry: Registry, table: str = "events"
    ) -> None:
        self.database = database
        self.registry = registry
        self.table = checked_identifier(table)
        self._schema_versions: dict[str, int] = {}  # for the row builder borrowed below
        database.create(event_table_sql(self.table))
        database.refresh_log_tables()
        self._prepare_reads()

    # --- the aggregate store interface -----------------------------------------------------

    def load(self, aggregate: Aggregate) -> None:
        """Replay the aggregate's stored events after its current version."""
        for event in self.load_stream(
            aggregate.NAME, aggregate.stream_id, after_version=aggregate.version
        ):
            aggregate.load_event(event)

    # --- appending -------------------------------------------------------------------------

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

        Returns the events as stored, each with its global position. ``snapshot``: a
        snapshot table and what makes the row to upsert there, in the append's own
        statement, only if the events are written (the row is made after the events are
        checked and serialized, before anything is sent); ``save(aggregate,
        snapshot=...)`` passes it on.
        """
        checked_expected_version(expected_version)
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
        if not found:  # one stream's statement, refused: it claimed and wrote nothing
            ((name, stream_id, version),) = streams
            raise ConcurrencyError(name, stream_id, version, self.stream_version(name, stream_id))
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

        A stream's later appends must each take up where the one before left it; one
        that does not is refused before anything is sent, as on DuckDB.
        """
        firsts: dict[StreamKey, int] = {}
        heads: dict[StreamKey, int] = {}
        for name, stream_id, version, events, _ in appends:
            key = (name, stream_id)
            head = heads.setdefault(key, version)
            if head != version:
                raise ConcurrencyError(name, stream_id, version, head)
            firsts.setdefault(key, version)
            heads[key] = version + len(events)
        return firsts

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

    def __repr__(self) -> str:
        return f"PostgresEventStore({self.table!r} on {self.database!r})"


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
