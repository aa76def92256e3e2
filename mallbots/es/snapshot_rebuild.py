"""Writing every snapshot afresh from the events, the same way on every backend.

Snapshots are a cache; this is how it is mended (a table DuckDB cannot read, payloads
that no longer decode) or refilled after the strategy changed. The replay, the batching
and the capture are here; a backend's event store says only which streams are long
enough and reads a batch of them as columns (:class:`~mallbots.es.ports.StreamBatches`),
and its snapshot store empties the table and writes the rows
(:class:`~mallbots.es.ports.SnapshotStorage`).

On PostgreSQL other processes append meanwhile. Each snapshot is replayed from the
events one query read, so at worst it is behind its stream, and a load replays the
rest; a save with a snapshot that commits before the rebuild does may be replaced by
the rebuild's older one, never by a wrong one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import groupby
from operator import itemgetter

from mallbots.es.aggregate import Aggregate
from mallbots.es.decoding import STREAM_ID, decode_columns
from mallbots.es.ports import StreamBatches
from mallbots.es.registry import Registry
from mallbots.es.snapshots import Snapshot, SnapshotMiddleware, least_version

LONG_STREAMS_SQL = (
    "SELECT stream_id FROM {table} WHERE stream_name = $1 "
    "GROUP BY stream_id HAVING max(stream_version) >= $2 ORDER BY stream_id"
)
"""The ids of an event table's streams named $1 with at least $2 events, sorted (in
DuckDB's placeholders; PostgreSQL runs it through ``statements.numbered``)."""


def rebuild_snapshots(
    store: SnapshotMiddleware,
    events: StreamBatches,
    aggregate_types: Sequence[type[Aggregate]],
    *,
    batch_size: int = 5000,
) -> int:
    """Drop every snapshot of ``store`` and write fresh ones from ``events``, in one
    transaction of their database; returns how many were written.

    Each stream of the given aggregate types that the strategy would have snapshotted
    (for ``EveryNEvents(n)``, every stream of at least n events; for ``never``, none)
    gets a snapshot at its newest version, stamped with its newest event's time. Streams
    are replayed ``batch_size`` at a time, each batch read in one query and written at
    once. Only the event table's own streams are read: an archived stream gets none.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    least = least_version(store.strategy)
    written = 0
    with store.database.transaction():
        store.recreate_table()
        for aggregate_type in aggregate_types if least is not None else ():
            name = aggregate_type.NAME
            stream_ids = events.stream_ids_at_least(name, least)
            for start in range(0, len(stream_ids), batch_size):
                columns = events.streams_columns(name, stream_ids[start : start + batch_size])
                taken = list(replayed(aggregate_type, columns, events.registry))
                store.write_many(taken)
                written += len(taken)
    return written


def replayed(
    aggregate_type: type[Aggregate], columns: list[list], registry: Registry
) -> Iterator[Snapshot]:
    """A snapshot of each stream in ``columns`` (stream by stream, in version order),
    replayed from its first event to its newest."""
    events = decode_columns(columns, registry)
    for stream_id, pairs in groupby(zip(columns[STREAM_ID], events, strict=True), itemgetter(0)):
        stream = [event for _, event in pairs]
        aggregate = aggregate_type(stream[0].aggregate_id)
        for event in stream:
            aggregate.load_event(event)
        yield Snapshot(
            stream_id,
            aggregate_type.NAME,
            aggregate.version,
            aggregate.to_snapshot(),
            stream[-1].occurred_at,
        )
