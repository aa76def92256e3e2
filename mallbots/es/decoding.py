"""Stored rows back into events, fast, with errors that name the stream and version.

Every reader of events (a stream load, the global log, a projection) selects the same
columns, :data:`EVENT_COLUMNS`, and hands the rows here. The JSON of a whole batch is
parsed in one call; only if that fails is each row parsed alone, to name the bad one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from mallbots.es import serde
from mallbots.es.errors import CorruptEventError, PayloadError, UnknownNameError
from mallbots.es.events import EMPTY_METADATA, AggregateEvent
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

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp_from_us(microseconds: int) -> datetime:
    """An aware UTC datetime from microseconds since the epoch, exactly."""
    return _EPOCH + timedelta(microseconds=microseconds)


def stream_filter(
    stream_name: str, stream_id: str, after_version: int, to_version: int | None
) -> tuple[str, list]:
    """``WHERE`` text and parameters for one stream's events after (and up to) versions."""
    where = "stream_id = $1 AND stream_name = $2 AND stream_version > $3"
    parameters: list = [stream_id, stream_name, after_version]
    if to_version is not None:
        where += " AND stream_version <= $4"
        parameters.append(to_version)
    return where, parameters


def check_versions(
    rows: Sequence[Row], after_version: int, stream_name: str, stream_id: str
) -> None:
    """Refuse rows of one stream whose versions do not follow ``after_version`` one by one."""
    for expected, row in enumerate(rows, start=after_version + 1):
        if row[1] != expected:
            raise CorruptEventError(
                stream_name, stream_id, expected, f"version {expected} is missing from the stream"
            )


def decode_rows(
    rows: Sequence[Row], registry: Registry, stream: tuple[str, str] | None = None
) -> list[AggregateEvent]:
    """Build events from rows selected with :data:`EVENT_COLUMNS`.

    For rows of one stream selected with :data:`STREAM_EVENT_COLUMNS`, pass
    ``stream=(stream_name, stream_id)``.
    """
    if not rows:
        return []
    payloads = _parse_batch(rows, 4, stream)
    metadatas = _parse_metadata(rows, stream)
    registrations: dict[str, Registration] = {}
    events = []
    append = events.append
    new_event = tuple.__new__  # all nine fields are given: skip the named tuple's defaults
    epoch, microseconds = _EPOCH, timedelta
    stream_name, stream_id = stream or ("", "")
    for row, value, metadata in zip(rows, payloads, metadatas, strict=True):
        if stream is None:
            stream_id, stream_name = row[7], row[8]
        name = row[3]
        registration = registrations.get(name)
        try:
            if registration is None:
                registration = registrations[name] = registry.registration(name)
            if registration.upcasters:
                value = _upcast(registration, value, metadata)
            payload = registration.decode(value)
        except (UnknownNameError, serde.FieldError, PayloadError) as error:
            problem = error
            if isinstance(error, serde.FieldError):
                problem = PayloadError(name, str(error))
            raise CorruptEventError(stream_name, stream_id, row[1], str(problem)) from None
        aggregate_id = stream_id
        if metadata is not EMPTY_METADATA:
            aggregate_id = metadata.get(AGGREGATE_ID, stream_id)
        append(
            new_event(
                AggregateEvent,
                (
                    row[2],
                    name,
                    payload,
                    epoch + microseconds(0, 0, row[6]),
                    stream_name,
                    aggregate_id,
                    row[1],
                    metadata,
                    row[0],
                ),
            )
        )
    return events


def _upcast(registration: Registration, value: Any, metadata: Any) -> Any:
    """The stored JSON value carried up from the schema version its metadata records."""
    stored = metadata.get(SCHEMA_VERSION, 1)
    if type(stored) is not int:
        raise PayloadError(registration.name, f"schema version {stored!r} is not a number")
    if stored < registration.version:
        return registration.upcast(value, stored)
    return value


def _parse_batch(rows: Sequence[Row], column: int, stream: tuple[str, str] | None) -> list[Any]:
    try:
        values = serde.loads("[" + ",".join(row[column] for row in rows) + "]")
        if len(values) == len(rows):
            return values
    except (json.JSONDecodeError, TypeError):
        pass
    return [_parse_one(row, column, stream) for row in rows]


def _parse_one(row: Row, column: int, stream: tuple[str, str] | None) -> Any:
    try:
        return serde.loads(row[column])
    except (json.JSONDecodeError, TypeError) as error:
        stream_name, stream_id = stream or (row[8], row[7])
        what = "event data" if column == 4 else "metadata"
        raise CorruptEventError(
            stream_name, stream_id, row[1], f"{row[3]}: {what} is not valid JSON ({error})"
        ) from None


def _parse_metadata(rows: Sequence[Row], stream: tuple[str, str] | None) -> list[Any]:
    if all(row[5] == "{}" for row in rows):
        return [EMPTY_METADATA] * len(rows)
    return [value or EMPTY_METADATA for value in _parse_batch(rows, 5, stream)]
