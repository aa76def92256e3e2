"""Stored rows back into events, fast, with errors that name the stream and version.

Every reader of events (a stream load, the global log, a projection) selects the same
columns, :data:`EVENT_COLUMNS`, and hands the rows here. The JSON of a whole batch is
parsed in one call; only if that fails is each row parsed alone, to name the bad one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import compress, repeat
from typing import Any

import duckdb

from mallbots.es import serde
from mallbots.es.errors import CorruptEventError, PayloadError, UnknownNameError
from mallbots.es.events import EMPTY_METADATA, AggregateEvent
from mallbots.es.registry import SCHEMA_VERSION, Registration, Registry
from mallbots.es.serde import Decoder

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
_MICROSECONDS = partial(timedelta, 0, 0)


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
    return decode_columns(list(zip(*rows, strict=True)), registry, stream)


def fetch_columns(result: duckdb.DuckDBPyConnection) -> list[list[Any]]:
    """An executed query's columns as lists: quicker than rows, for :func:`decode_columns`."""
    return [column.tolist() for column in result.fetchnumpy().values()]


def decode_columns(
    columns: Sequence[Sequence[Any]], registry: Registry, stream: tuple[str, str] | None = None
) -> list[AggregateEvent]:
    """Build events from the columns of :data:`EVENT_COLUMNS` (as :func:`decode_rows`).

    A whole batch is built column by column (list comprehensions, ``zip`` and ``map``
    do the per-row work in C where they can); if any row does not decode, the rows are
    decoded again one by one to name the first bad one.
    """
    if not columns or not columns[0]:
        return []
    positions, versions, ids, names, data, metadata, micros = columns[:7]
    rows = partial(_rows_of, columns)  # only for naming a bad row
    values = _parse_batch(data, 4, stream, rows)
    metadatas = _parse_metadata(metadata, stream, rows)
    if stream is None:
        stream_ids, stream_names = columns[7], columns[8]
    else:
        stream_ids, stream_names = (repeat(stream[1]), repeat(stream[0]))
    try:
        plans = {name: _plan(registry.registration(name)) for name in set(names)}
        payloads = [
            decode(value if upcasting is None else _upcast(upcasting, value, metadata))
            for (decode, upcasting), value, metadata in zip(
                map(plans.__getitem__, names), values, metadatas, strict=True
            )
        ]
    except (UnknownNameError, serde.FieldError, PayloadError):
        _raise_first_corrupt(rows(), values, metadatas, registry, stream)
        raise
    moments = list(map(_EPOCH.__add__, map(_MICROSECONDS, micros)))
    aggregate_ids = stream_ids
    if any(metadata is not EMPTY_METADATA for metadata in metadatas):
        aggregate_ids = [
            stream_id if metadata is EMPTY_METADATA else metadata.get(AGGREGATE_ID, stream_id)
            for stream_id, metadata in zip(stream_ids, metadatas, strict=False)  # may repeat
        ]
    fields = zip(  # the stream's name and id may be repeat()ed: not strict
        ids,
        names,
        payloads,
        moments,
        stream_names,
        aggregate_ids,
        versions,
        metadatas,
        positions,
        strict=False,
    )
    return list(map(_new_event, fields))


_new_event = partial(tuple.__new__, AggregateEvent)
"""An event from all nine fields, skipping the named tuple's defaults (one C call)."""


def _plan(registration: Registration) -> tuple[Decoder, Registration | None]:
    """How to decode a name's payloads: its decoder, and itself if it may need upcasting."""
    return registration.decode, registration if registration.upcasters else None


def _raise_first_corrupt(
    rows: Sequence[Row],
    values: list[Any],
    metadatas: list[Any],
    registry: Registry,
    stream: tuple[str, str] | None,
) -> None:
    """Decode row by row; raise :class:`CorruptEventError` for the first that fails."""
    for row, value, metadata in zip(rows, values, metadatas, strict=True):
        stream_name, stream_id = stream or (row[8], row[7])
        name = row[3]
        try:
            decode, upcasting = _plan(registry.registration(name))
            decode(value if upcasting is None else _upcast(upcasting, value, metadata))
        except (UnknownNameError, serde.FieldError, PayloadError) as error:
            problem = error
            if isinstance(error, serde.FieldError):
                problem = PayloadError(name, str(error))
            raise CorruptEventError(stream_name, stream_id, row[1], str(problem)) from None


def _upcast(registration: Registration, value: Any, metadata: Any) -> Any:
    """The stored JSON value carried up from the schema version its metadata records."""
    stored = metadata.get(SCHEMA_VERSION, 1)
    if type(stored) is not int:
        raise PayloadError(registration.name, f"schema version {stored!r} is not a number")
    if stored < registration.version:
        return registration.upcast(value, stored)
    return value


def _rows_of(columns: Sequence[Sequence[Any]]) -> list[Row]:
    return list(zip(*columns, strict=True))


def _parse_batch(
    texts: Sequence[str],
    column: int,
    stream: tuple[str, str] | None,
    rows: Callable[[], Sequence[Row]],
) -> list[Any]:
    """The JSON ``texts`` (column ``column`` of ``rows``) parsed in one call."""
    try:
        values = serde.loads("[" + ",".join(texts) + "]")
        if len(values) == len(texts):
            return values
    except (json.JSONDecodeError, TypeError):
        pass
    return [_parse_one(row, column, stream) for row in rows()]


def _parse_one(row: Row, column: int, stream: tuple[str, str] | None) -> Any:
    try:
        return serde.loads(row[column])
    except (json.JSONDecodeError, TypeError) as error:
        stream_name, stream_id = stream or (row[8], row[7])
        what = "event data" if column == 4 else "metadata"
        raise CorruptEventError(
            stream_name, stream_id, row[1], f"{row[3]}: {what} is not valid JSON ({error})"
        ) from None


def _parse_metadata(
    texts: Sequence[str], stream: tuple[str, str] | None, rows: Callable[[], Sequence[Row]]
) -> list[Any]:
    """Each row's metadata; the common empty ``{}`` is not parsed at all."""
    metadatas: list[Any] = [EMPTY_METADATA] * len(texts)
    if texts.count("{}") == len(texts):
        return metadatas
    given = list(compress(range(len(texts)), map("{}".__ne__, texts)))
    values = _parse_batch([texts[i] for i in given], 5, stream, lambda: [rows()[i] for i in given])
    for i, value in zip(given, values, strict=True):
        metadatas[i] = value or EMPTY_METADATA
    return metadatas
