"""Closing the books: an endless stream summarised, closed, and continued in a new one.

Most streams end on their own (a basket is checked out) or grow slowly (a store). Some
grow without end: a product whose price changes every day gains 365 events a year, and
every load replays them. Accountants close their books at the end of a period and
open the next with the balances carried forward; a stream can do the same:

1. a **closing event** ends the old stream, summarising it and naming its successor;
2. an **opening event** starts the successor stream, carrying the state forward;
3. a row in ``<schema>.continuations`` points the aggregate's id at its newest stream.

The aggregate keeps its id. Loading it by that id follows the pointer
(:class:`ContinuationStore`, a middleware), so commands and queries never notice;
events in a continuation stream record the aggregate's id in their metadata, so read
models key them by it as before. A closed stream never changes again, so it can be
moved out of the hot table (:meth:`EventStore.archive`) while the log still reads it.
"""

from __future__ import annotations

import threading
import uuid
from typing import TypeVar

from mallbots.es.aggregate import Aggregate
from mallbots.es.aggregate_store import AggregateStore, Middleware
from mallbots.es.duckdb.database import Database, checked_identifier, create_schema_of
from mallbots.es.duckdb.log import EventLog
from mallbots.es.events import AggregateEvent
from mallbots.es.repository import AggregateRepository

A = TypeVar("A", bound=Aggregate)

CONTINUATION_IDS = uuid.UUID("3b0f7f4e-5a0e-4c59-9a51-6c1f1b7d2e11")
"""The namespace of continuation stream ids (derived, so a seeded shop stays reproducible)."""


def continuation_id(stream_name: str, aggregate_id: str, period: int) -> str:
    """The stream id of an aggregate's ``period``-th stream (its first is its own id)."""
    if period == 1:
        return aggregate_id
    return str(uuid.uuid5(CONTINUATION_IDS, f"{stream_name}/{aggregate_id}/{period}"))


class Continuations:
    """Which stream each aggregate whose books were closed lives in now."""

    def __init__(self, database: Database, table: str) -> None:
        self.database = database
        self.table = checked_identifier(table)
        self._lock = threading.Lock()
        if not database.read_only:
            with database.writing() as cursor:
                create_schema_of(cursor, self.table)
                cursor.execute(
                    f"""
                    CREATE TABLE IF NOT EXISTS {self.table} (
                        stream_name  VARCHAR NOT NULL,
                        aggregate_id VARCHAR NOT NULL,
                        period       INTEGER NOT NULL,
                        stream_id    VARCHAR NOT NULL,
                        PRIMARY KEY (stream_name, aggregate_id, period)
                    )
                    """
                )
        self._current = {
            (name, aggregate_id): (period, stream_id)
            for name, aggregate_id, period, stream_id in database.execute(
                f"SELECT stream_name, aggregate_id, max(period), arg_max(stream_id, period) "
                f"FROM {self.table} GROUP BY ALL"
            ).fetchall()
        }

    def current(self, stream_name: str, aggregate_id: str) -> tuple[int, str]:
        """``(period, stream_id)`` of the stream an aggregate lives in now."""
        with self._lock:
            return self._current.get((stream_name, aggregate_id), (1, aggregate_id))

    def streams(self, stream_name: str, aggregate_id: str) -> list[str]:
        """Every stream of an aggregate's life, oldest first."""
        later = self.database.execute(
            f"SELECT stream_id FROM {self.table} "
            "WHERE stream_name = $1 AND aggregate_id = $2 ORDER BY period",
            [stream_name, aggregate_id],
        ).fetchall()
        return [aggregate_id] + [stream_id for (stream_id,) in later]

    def record(self, stream_name: str, aggregate_id: str, period: int, stream_id: str) -> None:
        """Point the aggregate at its new stream (in the caller's transaction)."""
        self.database.execute(
            f"INSERT INTO {self.table} VALUES ($1, $2, $3, $4)",
            [stream_name, aggregate_id, period, stream_id],
        )

        def remember() -> None:
            with self._lock:
                self._current[(stream_name, aggregate_id)] = (period, stream_id)

        self.database.after_commit(remember)

    def closed_streams(self) -> list[tuple[str, str]]:
        """``(stream_name, stream_id)`` of every stream whose books were closed."""
        rows = self.database.execute(
            f"SELECT stream_name, aggregate_id, period FROM {self.table} ORDER BY ALL"
        ).fetchall()
        return [(name, continuation_id(name, id_, period - 1)) for name, id_, period in rows]


class ContinuationStore:
    """Middleware: before a load, point the aggregate at the stream it lives in now."""

    def __init__(self, inner: AggregateStore, continuations: Continuations) -> None:
        self.inner = inner
        self.continuations = continuations

    def load(self, aggregate: Aggregate) -> None:
        if aggregate.version == 0 and not aggregate.events:
            _, stream_id = self.continuations.current(aggregate.NAME, aggregate.id)
            aggregate.continue_in(stream_id)
        self.inner.load(aggregate)

    def save(self, aggregate: Aggregate) -> list[AggregateEvent]:
        return self.inner.save(aggregate)


def continuations(table: Continuations) -> Middleware:
    """Middleware that loads aggregates from their newest stream (place it outside snapshots)."""
    return lambda inner: ContinuationStore(inner, table)


def close_books(
    repository: AggregateRepository[A], continuations: Continuations, closing: A
) -> str:
    """Close a loaded aggregate's stream and continue it in a new one; returns its id.

    One transaction: the closing event, the opening event and the pointer land together.
    The aggregate type says what its closing and opening events hold, through
    :meth:`Aggregate.close_books` and :meth:`Aggregate.open_books`.
    """
    name = repository.aggregate_name
    with continuations.database.transaction():
        period, _ = continuations.current(name, closing.id)
        successor = continuation_id(name, closing.id, period + 1)
        closing.close_books(successor)
        repository.save(closing)
        opening = repository.new(closing.id)
        opening.continue_in(successor)
        opening.open_books(closing)
        repository.save(opening)
        continuations.record(name, closing.id, period + 1, successor)
    return successor


class Lifeline:
    """Reads an aggregate's whole life, across its streams and the archive, in order."""

    def __init__(self, log: EventLog, continuations: Continuations | None = None) -> None:
        self.log = log
        self.continuations = continuations

    def load_stream(self, stream_name: str, aggregate_id: str) -> list[AggregateEvent]:
        """Every event of the aggregate, oldest first, one stream after the other."""
        streams = (
            self.continuations.streams(stream_name, aggregate_id)
            if self.continuations is not None
            else [aggregate_id]
        )
        return [event for stream in streams for event in self.log.load_stream(stream_name, stream)]
