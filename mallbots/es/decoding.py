"""Stored rows back into events, fast, with errors that name the stream and version.

Every reader of events (a stream load, the global log, a projection) selects the same
columns, :data:`EVENT_COLUMNS`, and hands them here. Results are fetched by column
(:func:`fetch_columns`: DuckDB fills a NumPy array per column, far cheaper than a
Python tuple per row), and events are built with loops that run in C (``map``,
``zip``): the JSON of a whole batch is parsed in one call, each event name's decoder
is looked up once, and the payload decoders are the only Python code run per event.

Payloads stored at an older schema version (the ``schema_version`` metadata key) go
through their registered upcasters first. If anything in a batch does not decode, the
batch is decoded again row by row, only to name the bad row in a
:class:`CorruptEventError`.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import count, islice, repeat
from typing import Any, Protocol

from mallbots.es import serde
from mallbots.es.errors import (
    CorruptEventError,
    NewerSchemaVersionError,
    PayloadError,
    UnknownNameError,
)
from mallbots.es.events import EMPTY_METADATA, AggregateEvent
from mallbots.es.gc_pause import collector_paused
from mallbots.es.registry import SCHEMA_VERSION, Registration, Registry

STREAM_EVENT_COLUMNS = (
    "position, stream_version, event_id::VARCHAR, event_name, event_data, metadata, "
    "epoch_us(occurred_at)"
)
"""The select list of a one-stream query: the stream itself is known to the caller."""

EVENT_COLUMNS = STREAM_EVENT_COLUMNS + ", stream_id, stream_name"
"""The select list of every other event query, in the order :func:`decode_rows` expects."""

AGGREGATE_ID = "aggregate_id"
"""The metadata key naming an event's aggregate when its stream id differs (a
continuation stream, see :mod:`mallbots.es.books`)."""

AGGREGATE_ID_SQL = f"coalesce(metadata->>'{AGGREGATE_ID}', stream_id)"
"""The same in SQL over an event table's row."""

Row = tuple  # (position, version, event_id, name, data, metadata, occurred_us[, id, name])
Columns = Sequence[list]
"""The same values by column: one list per selected column, in select-list order."""

POSITION, VERSION, EVENT_ID, NAME, DATA, METADATA, OCCURRED_US, STREAM_ID, STREAM_NAME = range(9)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FLOAT_EXACT_US = (1 << 33) * 1_000_000
"""Within this many microseconds of the epoch (years 1698 to 2242), ``us / 1e6`` is
less than half a microsecond from the true time, so ``datetime.fromtimestamp`` (which
rounds to the nearest microsecond) returns it exactly."""
_call = operator.call
_UNREADABLE = (
    ValueError,  # includes json.JSONDecodeError, serde.FieldError and PayloadError
    TypeError,
    RecursionError,  # JSON nested deeper than Python will parse
    UnknownNameError,
)
_new_event = tuple.__new__  # all nine fields are given: skip the named tuple's defaults


def timestamp_from_us(microseconds: int) -> datetime:
    """An aware UTC datetime from microseconds since the epoch, exactly."""
    return _EPOCH + timedelta(microseconds=microseconds)


class ColumnarResult(Protocol):
    """A query's result that hands its columns over as arrays (DuckDB's, say)."""

    def fetchnumpy(self) -> dict[str, Any]: ...


def fetch_columns(result: ColumnarResult) -> list[list]:
    """The rest of a query's result as one Python list per column."""
    return [array.tolist() for array in result.fetchnumpy().values()]


def columns_of_rows(rows: Sequence[Row], width: int) -> list[list]:
    """Rows as one list per column; ``width`` empty lists when there are no rows."""
    return [list(column) for column in zip(*rows, strict=True)] or [[] for _ in range(width)]


def decode_rows(
    rows: Sequence[Row], registry: Registry, stream: tuple[str, str] | None = None
) -> list[AggregateEvent]:
    """Build events from rows selected with :data:`EVENT_COLUMNS`.

    For rows of one stream selected with :data:`STREAM_EVENT_COLUMNS`, pass
    ``stream=(stream_name, stream_id)``.
    """
    if not rows:
        return []
    return decode_columns(columns_of_rows(rows, 0), registry, stream)


def decode_columns(
    columns: Columns, registry: Registry, stream: tuple[str, str] | None = None
) -> list[AggregateEvent]:
    """Build events from columns selected with :data:`EVENT_COLUMNS`.

    For columns of one stream selected with :data:`STREAM_EVENT_COLUMNS` (extra columns
    after them are ignored), pass ``stream=(stream_name, stream_id)``. From
    :data:`PAUSE_COLLECTOR_FROM` events on, the cyclic garbage collector is paused
    meanwhile (see :mod:`mallbots.es.gc_pause`).
    """
    if len(columns[POSITION]) < PAUSE_COLLECTOR_FROM:
        return _decode_columns(columns, registry, stream)
    with collector_paused():
        return _decode_columns(columns, registry, stream)


PAUSE_COLLECTOR_FROM = 1000
"""Fewer events than this cause at most one collection: not worth the pause."""


def _decode_columns(
    columns: Columns, registry: Registry, stream: tuple[str, str] | None
) -> list[AggregateEvent]:
    count = len(columns[POSITION])
    if not count:
        return []
    names = columns[NAME]
    try:
        values = serde.loads("[" + ",".join(columns[DATA]) + "]")
        if len(values) != count:
            raise ValueError("an event's data is not one JSON value")
        registrations = {name: registry.registration(name) for name in set(names)}
        metadatas = _metadatas(columns[METADATA])
        if any(registration.upcasters for registration in registrations.values()) or (
            not isinstance(metadatas, repeat)
            and any(map(operator.contains, metadatas, repeat(SCHEMA_VERSION)))
        ):
            metadatas = list(islice(metadatas, count))
            values = list(map(_upcast, map(registrations.__getitem__, names), values, metadatas))
        decoders = {name: registration.decode for name, registration in registrations.items()}
        payloads = list(map(_call, map(decoders.__getitem__, names), values))
    except _UNREADABLE:
        return _decode_rows_one_by_one(list(zip(*columns, strict=False)), registry, stream)
    if stream is None:
        stream_names, stream_ids = columns[STREAM_NAME], columns[STREAM_ID]
    else:
        stream_names, stream_ids = repeat(stream[0]), repeat(stream[1])
    aggregate_ids = stream_ids
    if not isinstance(metadatas, repeat):  # some metadata: a continuation stream names its own
        metadatas = list(islice(metadatas, count))
        aggregate_ids = list(map(_aggregate_id, stream_ids, metadatas))
    occurred = _timestamps(columns[OCCURRED_US])
    return list(
        map(
            _new_event,
            repeat(AggregateEvent),
            zip(
                columns[EVENT_ID],
                names,
                payloads,
                occurred,
                stream_names,
                aggregate_ids,
                columns[VERSION],
                metadatas,
                columns[POSITION],
                strict=False,  # the repeat()s are endless
            ),
        )
    )


def _timestamps(microseconds: list[int]) -> Any:
    """Aware UTC datetimes from microseconds since the epoch, exactly."""
    if min(microseconds) > -_FLOAT_EXACT_US and max(microseconds) < _FLOAT_EXACT_US:
        seconds = map(operator.truediv, microseconds, repeat(1e6))
        return map(datetime.fromtimestamp, seconds, repeat(UTC))
    return map(_EPOCH.__add__, map(timedelta, repeat(0), repeat(0), microseconds))


def _metadatas(texts: list[str]) -> Any:
    if texts.count("{}") == len(texts):
        return repeat(EMPTY_METADATA)
    values = serde.loads_metadata("[" + ",".join(texts) + "]")
    if len(values) != len(texts):
        raise ValueError("an event's metadata is not one JSON value")
    return [value or EMPTY_METADATA for value in values]


def _aggregate_id(stream_id: str, metadata: Any) -> str:
    """The event's aggregate: its stream's id, unless the metadata names another."""
    return metadata.get(AGGREGATE_ID, stream_id) if metadata else stream_id


def _upcast(registration: Registration, value: Any, metadata: Any) -> Any:
    """The stored JSON value carried up to the registration's schema version.

    A version newer than the registration's was written by a later release: refused as
    such, not decoded as the older shape (which would report a missing field, or worse,
    misread it).
    """
    stored = metadata.get(SCHEMA_VERSION, 1)
    if type(stored) is not int:
        raise PayloadError(registration.name, f"schema version {stored!r} is not a number")
    if stored > registration.version:
        raise NewerSchemaVersionError(registration.name, stored, registration.version)
    if stored < registration.version and registration.upcasters:
        return registration.upcast(value, stored)
    return value


# --- the slow path: one row at a time, to name the row at fault ---------------------------


def _decode_rows_one_by_one(
    rows: Sequence[Row], registry: Registry, stream: tuple[str, str] | None
) -> list[AggregateEvent]:
    events = []
    stream_name, stream_id = stream or ("", "")
    for row in rows:
        if stream is None:
            stream_id, stream_name = row[STREAM_ID], row[STREAM_NAME]
        position, version, event_id, name, _, _, occurred_us = row[:7]
        value = _parse_one(row, DATA, stream)
        metadata = (
            _parse_one(row, METADATA, stream, serde.loads_metadata)
            if row[METADATA] != "{}"
            else None
        ) or EMPTY_METADATA
        try:
            registration = registry.registration(name)
            payload = registration.decode(_upcast(registration, value, metadata))
        except UnknownNameError as error:
            raise CorruptEventError(stream_name, stream_id, version, str(error)) from None
        except serde.FieldError as error:
            problem = str(PayloadError(name, str(error)))
            raise CorruptEventError(stream_name, stream_id, version, problem) from None
        except PayloadError as error:
            raise CorruptEventError(stream_name, stream_id, version, str(error)) from None
        events.append(
            _new_event(
                AggregateEvent,
                (
                    event_id,
                    name,
                    payload,
                    _EPOCH + timedelta(0, 0, occurred_us),
                    stream_name,
                    _aggregate_id(stream_id, metadata),
                    version,
                    metadata,
                    position,
                ),
            )
        )
    return events


def _parse_one(row: Row, column: int, stream: tuple[str, str] | None, loads=serde.loads) -> Any:
    try:
        return loads(row[column])
    except (ValueError, TypeError, RecursionError) as error:
        stream_name, stream_id = stream or (row[STREAM_NAME], row[STREAM_ID])
        what = "event data" if column == DATA else "metadata"
        raise CorruptEventError(
            stream_name, stream_id, row[VERSION], f"{row[NAME]}: {what} is not valid JSON ({error})"
        ) from None


# --- one stream's rows -------------------------------------------------------------------


def stream_window(columns: Columns, stream_name: str, after: int, upper: int | None) -> Columns:
    """The rows of one stream in a version window, in version order.

    ``columns`` were selected by stream id alone (so DuckDB could use its index); their
    last column is the stream name, which tells apart streams of different types that
    happen to share the id.
    """
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


def check_contiguous(columns: Columns, after: int, stream_name: str, stream_id: str) -> None:
    """Refuse a stream's rows (in version order) whose versions skip one after ``after``."""
    versions = columns[VERSION]
    if versions and (versions[0] != after + 1 or versions[-1] != after + len(versions)):
        # strictly increasing, so the first version that is not its place's is missing
        expected = next(e for e, v in zip(count(after + 1), versions) if v != e)
        raise CorruptEventError(
            stream_name, stream_id, expected, f"version {expected} is missing from the stream"
        )


def decode_stream_columns(
    columns: list[list],
    registry: Registry,
    stream_name: str,
    stream_id: str,
    after: int = 0,
    upper: int | None = None,
) -> list[AggregateEvent]:
    """A stream's events from columns selected by its id (the stream name last): the
    rows of ``stream_name`` after version ``after`` (up to ``upper``), checked for gaps,
    then decoded. Both backends' stores and logs load streams through it."""
    columns = stream_window(columns, stream_name, after, upper)
    check_contiguous(columns, after, stream_name, stream_id)
    return decode_columns(columns, registry, (stream_name, stream_id))
