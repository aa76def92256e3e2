"""Stored rows back into events, fast, with errors that name the stream and version.

Every reader of events (a stream load, the global log, a projection) selects the same
columns, :data:`EVENT_COLUMNS`, and hands the rows here. The JSON of a whole batch is
parsed in one call; only if that fails is each row parsed alone, to name the bad one.
"""

from __future__ import annotations

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

Row = tuple  # (position, version, event_id, name, data, metadata, occurred_us[, id, name])

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp_from_us(microseconds: int) -> datetime:
    """An aware UTC datetime from microseconds since the epoch, exactly."""
    return _EPOCH + timedelta(microseconds=microseconds)


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
    new_event = tuple.__new__  # all nine fields are given: skip the named tuple's defaults
    stream_name, stream_id = stream or ("", "")
    for row, value, metadata in zip(rows, payloads, metadatas, strict=True):
        if stream is None:
            stream_id, stream_name = row[7], row[8]
        position, version, event_id, name, _, _, occurred_us = row[:7]
        registration = registrations.get(name)
        try:
            if registration is None:
                registration = registrations[name] = registry.registration(name)
            if registration.upcasters:
                stored = metadata.get(SCHEMA_VERSION, 1)
                if type(stored) is not int:
                    raise PayloadError(name, f"schema version {stored!r} is not a number")
                if stored < registration.version:
                    value = registration.upcast(value, stored)
            payload = registration.decode(value)
        except UnknownNameError as error:
            raise CorruptEventError(stream_name, stream_id, version, str(error)) from None
        except serde.FieldError as error:
            problem = str(PayloadError(name, str(error)))
            raise CorruptEventError(stream_name, stream_id, version, problem) from None
        except PayloadError as error:
            raise CorruptEventError(stream_name, stream_id, version, str(error)) from None
        occurred_at = _EPOCH + timedelta(0, 0, occurred_us)
        events.append(
            new_event(
                AggregateEvent,
                (
                    event_id,
                    name,
                    payload,
                    occurred_at,
                    stream_name,
                    stream_id,
                    version,
                    metadata,
                    position,
                ),
            )
        )
    return events


def _parse_batch(
    rows: Sequence[Row], column: int, stream: tuple[str, str] | None, loads=serde.loads
) -> list[Any]:
    try:
        values = loads("[" + ",".join(row[column] for row in rows) + "]")
        if len(values) == len(rows):
            return values
    except (ValueError, TypeError, RecursionError):
        pass
    return [_parse_one(row, column, stream, loads) for row in rows]


def _parse_one(row: Row, column: int, stream: tuple[str, str] | None, loads=serde.loads) -> Any:
    try:
        return loads(row[column])
    except (ValueError, TypeError, RecursionError) as error:
        stream_name, stream_id = stream or (row[8], row[7])
        what = "event data" if column == 4 else "metadata"
        raise CorruptEventError(
            stream_name, stream_id, row[1], f"{row[3]}: {what} is not valid JSON ({error})"
        ) from None


def _parse_metadata(rows: Sequence[Row], stream: tuple[str, str] | None) -> list[Any]:
    if all(row[5] == "{}" for row in rows):
        return [EMPTY_METADATA] * len(rows)
    values = _parse_batch(rows, 5, stream, serde.loads_metadata)
    return [value or EMPTY_METADATA for value in values]
