"""Events made into rows: the checks and serialization every event store shares.

A backend stores rows of nine columns (position offset, stream id, stream name,
version, event id, name, JSON payload, JSON metadata, time). Making them touches no
table, so it is the same for DuckDB and PostgreSQL, and a bulk writer can do it on
its own thread while the batch before is inserted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from mallbots.es import serde
from mallbots.es.aggregate import Aggregate
from mallbots.es.decoding import AGGREGATE_ID
from mallbots.es.events import AggregateEvent
from mallbots.es.identifiers import checked_identifier
from mallbots.es.registry import SCHEMA_VERSION, Registry

StreamKey = tuple[str, str]
"""A stream is named by (stream_name, stream_id): ``("stores.Store", "store-1")``."""


class PreparedAppends(NamedTuple):
    """Appends with their events checked and serialized into rows (see ``prepare``)."""

    appends: Sequence[StreamAppend]
    rows: list[list]


class StreamAppend(NamedTuple):
    """Events for one stream that must be at ``expected_version`` (for :meth:`append_many`)."""

    stream_name: str
    stream_id: str
    expected_version: int
    events: Sequence[AggregateEvent]
    aggregate_id: str | None = None
    """The events' aggregate, when it is not the stream's id (a continuation stream)."""


class EventRows:
    """Mixin of an event store: events checked and serialized into rows, and the save
    of an aggregate as an append at its stored version (needs ``registry``,
    ``_schema_versions`` and ``append``)."""

    registry: Registry
    _schema_versions: dict[str, int]

    def save(self, aggregate: Aggregate, **options: Any) -> list[AggregateEvent]:
        """Append the aggregate's pending events, expecting its stored version
        (``options``: what the store's ``append`` takes beyond them)."""
        return self.append(
            aggregate.NAME,
            aggregate.stream_id,
            aggregate.version,
            aggregate.events,
            aggregate_id=aggregate.id,
            **options,
        )

    def prepare(
        self, appends: Sequence[StreamAppend], offsets: Sequence[int] | None = None
    ) -> PreparedAppends:
        """Check and serialize the events of ``appends`` into rows, touching no table.

        The Python half of :meth:`append_many`: a bulk writer does it on its own thread
        while another thread inserts the batch before (DuckDB runs without the GIL).
        Each row starts with its event's offset among the positions the write will use:
        from 0 in the order of ``appends``, unless ``offsets`` says where each append's
        first event goes (a bulk writer interleaving several tables in one transaction).
        """
        rows: list[list] = []
        offset = 0
        for index, (name, stream_id, expected, events, aggregate_id) in enumerate(appends):
            if offsets is not None:
                offset = offsets[index]
            key = checked_stream(name, stream_id)
            self._rows(key, aggregate_id or stream_id, expected, events, rows, offset)
            offset += len(events)
        return PreparedAppends(appends, rows)

    def _rows(
        self,
        key: StreamKey,
        aggregate_id: str,
        expected_version: int,
        events: Sequence[AggregateEvent],
        rows: list[list],
        offset: int,
    ) -> None:
        """Check the events of one stream; add a row for each to ``rows``, from ``offset``."""
        stream_name, stream_id = key
        checked_expected_version(expected_version)
        serialize = self.registry.serialize
        schema_versions = self._schema_versions
        continuation = aggregate_id != stream_id  # a continuation stream names its aggregate
        version = expected_version
        offset -= expected_version + 1  # the offset of an event is this plus its version
        for event in events:
            version += 1
            if event.aggregate_id != aggregate_id or event.aggregate_name != stream_name:
                raise ValueError(
                    f"event {event.name} belongs to {event.aggregate_name} "
                    f"{event.aggregate_id!r}, not to {stream_name} {aggregate_id!r}"
                )
            if event.aggregate_version != version:
                raise ValueError(
                    f"event {event.name} has version {event.aggregate_version}, expected {version}"
                )
            name = event.name
            schema_version = schema_versions.get(name)
            if schema_version is None:
                schema_version = schema_versions[name] = self.registry.version_of(name)
            if schema_version > 1 or continuation:
                recorded = {}
                if schema_version > 1:  # recorded so old payloads can be upcast one day
                    recorded[SCHEMA_VERSION] = schema_version
                if continuation:
                    recorded[AGGREGATE_ID] = aggregate_id
                metadata = _metadata_json(event, {**event.metadata, **recorded})
            else:
                metadata = _metadata_json(event, event.metadata) if event.metadata else "{}"
            occurred_at = event.occurred_at
            if occurred_at.tzinfo is None:
                raise ValueError(f"event times must be timezone-aware, not {occurred_at!r}")
            rows.append(
                [
                    offset + version,  # the position, once the write adds the first one
                    stream_id,
                    stream_name,
                    version,
                    event.id,
                    name,
                    serialize(name, event.payload),
                    metadata,
                    occurred_at,
                ]
            )


def checked_stream(stream_name: str, stream_id: str) -> StreamKey:
    """The stream key, if both parts are non-empty strings of valid Unicode."""
    for what, value in (("stream name", stream_name), ("stream id", stream_id)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"a {what} must be a non-empty string, not {value!r}")
        if not value.isascii():
            try:
                serde.check_text(value)
            except serde.FieldError as error:
                raise ValueError(f"the {what} {value!r} {error}") from None
    return (stream_name, stream_id)


def archive_table_of(table: str) -> str:
    """The table an event table's archived streams move to (see ``archive``)."""
    return checked_identifier(f"{table}_archive")


def stream_key_columns(streams: Iterable[StreamKey]) -> tuple[list[str], list[str]]:
    """Stream keys ``(stream_name, stream_id)`` as two columns, the names and the ids
    (a key of any other length is a ValueError)."""
    columns = [list(column) for column in zip(*streams, strict=True)] or [[], []]
    names, ids = columns
    return names, ids


def event_table_columns(unique_position: bool) -> str:
    """An event table's columns (the book's, plus a global position and metadata), in SQL
    that DuckDB and PostgreSQL read alike; ``unique_position`` makes the position a
    constraint (PostgreSQL's index for reading the log by position)."""
    unique = " UNIQUE" if unique_position else ""
    return f"""
    position       BIGINT      NOT NULL{unique},
    stream_id      TEXT        NOT NULL,
    stream_name    TEXT        NOT NULL,
    stream_version INTEGER     NOT NULL,
    event_id       UUID        NOT NULL UNIQUE,
    event_name     TEXT        NOT NULL,
    event_data     TEXT        NOT NULL,
    metadata       TEXT        NOT NULL DEFAULT '{{}}',
    occurred_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (stream_id, stream_name, stream_version)
"""


def checked_expected_version(expected_version: int) -> int:
    """The version an append expects its stream at, if it is an int and not negative."""
    if isinstance(expected_version, bool) or not isinstance(expected_version, int):
        raise TypeError(f"an expected version is an int, not {expected_version!r}")
    if expected_version < 0:
        raise ValueError(f"an expected version cannot be negative: {expected_version}")
    return expected_version


def checked_after_version(after_version: int) -> int:
    """The version a stream read starts after, if it is not negative."""
    if after_version < 0:
        raise ValueError(f"after_version cannot be negative: {after_version}")
    return after_version


def _metadata_json(event: AggregateEvent, metadata: Mapping[str, Any]) -> str:
    try:
        return serde.dumps_metadata(metadata)
    except (ValueError, TypeError, RecursionError) as error:
        raise ValueError(
            f"metadata of event {event.name} (version {event.aggregate_version}) "
            f"cannot be stored: {error}"
        ) from None


def unstorable(events: Sequence[AggregateEvent]) -> str | None:
    """What in ``events`` no event table can hold, if anything (checked after a refusal)."""
    for event in events:
        try:
            uuid.UUID(event.id)
        except (TypeError, ValueError, AttributeError):
            return (
                f"event {event.name} (version {event.aggregate_version}) has event id "
                f"{event.id!r}, which is not a UUID"
            )
    return None
