"""Time travel: any aggregate as it was at a version or a moment, any read model as it
stood at a log position.

Nothing here is stored: the past is replayed from the log on demand. An aggregate is
rebuilt from its own stream (snapshots only ever hold the newest state, so they are
not used). A read model is rebuilt into a private in-memory database, leaving the real
one untouched.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import datetime
from typing import Any, TypeVar

import pandas as pd

from mallbots.es.aggregate import Aggregate
from mallbots.es.database import Database
from mallbots.es.errors import AggregateNotFoundError
from mallbots.es.event_store import EventStore
from mallbots.es.events import AggregateEvent
from mallbots.es.log import EventLog
from mallbots.es.projection import Projection

A = TypeVar("A", bound=Aggregate)


def aggregate_at(
    aggregate_type: type[A],
    events: EventStore,
    aggregate_id: str,
    *,
    version: int | None = None,
    at: datetime | None = None,
) -> A:
    """The aggregate as it was after ``version`` events, or at the moment ``at``.

    With neither, the latest state. A moment before the aggregate existed, or an id
    with no events, raises :class:`AggregateNotFoundError`.
    """
    aggregate = aggregate_type(aggregate_id)
    for event in events.load_stream(aggregate.NAME, aggregate_id, to_version=version):
        if at is not None and event.occurred_at > at:
            break
        aggregate.load_event(event)
    if aggregate.version == 0:
        when = f" at {at.isoformat()}" if at is not None else ""
        raise AggregateNotFoundError(aggregate.NAME, aggregate_id + when)
    return aggregate


def history(
    aggregate_type: type[A], events: EventStore, aggregate_id: str
) -> Iterator[tuple[AggregateEvent, dict[str, Any]]]:
    """Each event of a stream with the aggregate's state right after it, oldest first."""
    aggregate = aggregate_type(aggregate_id)
    for event in events.load_stream(aggregate.NAME, aggregate_id):
        aggregate.load_event(event)
        yield event, _snapshot_of_state(aggregate)


def history_frame(aggregate_type: type[A], events: EventStore, aggregate_id: str) -> pd.DataFrame:
    """A stream's history as a table: one row per version, the event and the state after it."""
    rows = [
        {
            "version": event.aggregate_version,
            "event": event.name,
            "occurred_at": event.occurred_at,
            **{key: value for key, value in state.items() if key != "id"},
        }
        for event, state in history(aggregate_type, events, aggregate_id)
    ]
    return pd.DataFrame(rows)


def read_model_at(projection: Projection, log: EventLog, position: int) -> dict[str, pd.DataFrame]:
    """Each table of ``projection`` as it stood once the log reached ``position``.

    The projection is replayed into a private in-memory database, so the real read
    model (and its checkpoint) are not touched.
    """
    with Database.memory() as scratch:
        cursor = scratch.cursor()
        projection.setup(cursor)
        for batch in log.batches(0, 10_000, up_to=position, names=projection.handles):
            projection.apply(cursor, batch)
        return {table: projection.frame(cursor, table) for table in projection.tables}


def _snapshot_of_state(aggregate: Aggregate) -> dict[str, Any]:
    """A deep copy of the public state, which later events cannot change under us."""
    return copy.deepcopy(aggregate.state())
