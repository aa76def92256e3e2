"""Time travel: any aggregate as it was at a version or a moment, any read model as it
stood at a log position.

Nothing here is stored: the past is replayed from the log on demand. An aggregate is
rebuilt from its own stream (snapshots only ever hold the newest state, so they are
not used). A read model is rebuilt into a private in-memory database, leaving the real
one untouched.

Events are read from any ``source`` with a ``load_stream(stream_name, id)`` method: an
:class:`EventStore` (its hot table), the :class:`EventLog` (archives too), or a
:class:`~mallbots.es.books.Lifeline`, which follows an aggregate across the streams its
books were closed into. Versions count the events of the aggregate's life in order, so
across closed books ``version=n`` is still "after its n-th event".
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Protocol, TypeVar

import pandas as pd

from mallbots.es.aggregate import Aggregate
from mallbots.es.duckdb.database import Database
from mallbots.es.duckdb.log import EventLog
from mallbots.es.errors import AggregateNotFoundError
from mallbots.es.events import AggregateEvent
from mallbots.es.global_log import checked_count
from mallbots.es.projection import Projection

A = TypeVar("A", bound=Aggregate)


class StreamSource(Protocol):
    """Anything that reads an aggregate's events in order (store, log, lifeline)."""

    def load_stream(self, stream_name: str, stream_id: str) -> list[AggregateEvent]: ...


def aggregate_at(
    aggregate_type: type[A],
    events: StreamSource,
    aggregate_id: str,
    *,
    version: int | None = None,
    at: datetime | None = None,
) -> A:
    """The aggregate as it was after its ``version``-th event, or at the moment ``at``.

    With neither, the latest state. A moment before the aggregate existed, or an id
    with no events, raises :class:`AggregateNotFoundError`; a version it never reached,
    ``ValueError``.
    """
    if version is not None and at is not None:
        raise ValueError("give a version or a moment (at), not both")
    if version is not None:
        version = checked_count(version, "version", least=1)
    if at is not None and (not isinstance(at, datetime) or at.tzinfo is None):
        raise ValueError(f"the moment must be a timezone-aware datetime, not {at!r}")
    aggregate = aggregate_type(aggregate_id)
    taken = 0
    for taken, event in enumerate(events.load_stream(aggregate.NAME, aggregate_id), start=1):
        if (version is not None and taken > version) or (at is not None and event.occurred_at > at):
            taken -= 1
            break
        aggregate.load_event(event)
    if taken == 0:
        when = f" at {at.isoformat()}" if at is not None else ""
        raise AggregateNotFoundError(aggregate.NAME, aggregate_id + when)
    if version is not None and taken < version:
        name = f"{aggregate.NAME} {aggregate_id!r}"
        raise ValueError(f"{name} has versions 1 to {taken}, not {version}")
    return aggregate


def history(
    aggregate_type: type[A], events: StreamSource, aggregate_id: str
) -> Iterator[tuple[int, AggregateEvent, dict[str, Any]]]:
    """``(version, event, state after it)`` for each event of an aggregate, oldest first.

    An id with no events raises :class:`AggregateNotFoundError`, as :func:`aggregate_at`
    does: an empty history is more often a mistyped id than a fact worth a table.
    """
    aggregate = aggregate_type(aggregate_id)
    stream = events.load_stream(aggregate.NAME, aggregate_id)
    if not stream:
        raise AggregateNotFoundError(aggregate.NAME, aggregate_id)
    for version, event in enumerate(stream, start=1):
        aggregate.load_event(event)
        yield version, event, _snapshot_of_state(aggregate)


HISTORY_EVENT_COLUMNS = ("version", "position", "stream_version", "event", "occurred_at")
"""The columns of a :func:`history_frame` that describe each event; the rest are its state."""


def history_frame(aggregate_type: type[A], events: StreamSource, aggregate_id: str) -> pd.DataFrame:
    """An aggregate's history as a table: one row per version, the event and the state after.

    ``position`` is the event's place in the global log; ``stream_version`` its version
    in the stream holding it (it differs from ``version`` once books were closed).
    """
    rows = [
        {
            "version": version,
            "position": event.position,
            "stream_version": event.aggregate_version,
            "event": event.name,
            "occurred_at": event.occurred_at,
            **{key: value for key, value in state.items() if key != "id"},
        }
        for version, event, state in history(aggregate_type, events, aggregate_id)
    ]
    return pd.DataFrame(rows)


def read_model_at(projection: Projection, log: EventLog, position: int) -> dict[str, pd.DataFrame]:
    """Each table of ``projection`` as it stood once the log reached ``position``.

    The projection is replayed into a private in-memory database, so the real read
    model (and its checkpoint) are not touched.
    """
    position = checked_count(position, "position")
    with Database.memory() as scratch:
        cursor = scratch.cursor()
        projection.setup(cursor)
        for batch in log.batches(0, 10_000, up_to=position, names=projection.handles):
            projection.apply(cursor, batch)
        return {table: projection.frame(cursor, table) for table in projection.tables}


def _snapshot_of_state(aggregate: Aggregate) -> dict[str, Any]:
    """A deep copy of the public state, which later events cannot change under us."""
    return copy.deepcopy(aggregate.state())
