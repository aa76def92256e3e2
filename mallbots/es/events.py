"""Domain events: immutable records of something that happened.

An :class:`Event` has a name (``stores.StoreCreated``), a payload (a frozen dataclass
registered for that name), an id, the time it occurred and free-form metadata.
An :class:`AggregateEvent` also says which aggregate it belongs to and the version it
gave that aggregate; once stored it also knows its global position in the log.

Both are named tuples: cheap to build (a long stream loads thousands of them), and
immutable, because history does not change.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, NamedTuple

EMPTY_METADATA: Mapping[str, Any] = MappingProxyType({})


class Event(NamedTuple):
    """Something that happened, with a name, a typed payload, an id and a time."""

    id: str
    name: str
    payload: Any
    occurred_at: datetime
    metadata: Mapping[str, Any] = EMPTY_METADATA


class AggregateEvent(NamedTuple):
    """An event recorded by an aggregate, at a version of that aggregate's stream."""

    id: str
    name: str
    payload: Any
    occurred_at: datetime
    aggregate_name: str
    aggregate_id: str
    aggregate_version: int
    metadata: Mapping[str, Any] = EMPTY_METADATA
    position: int | None = None
    """The event's place in the global log; ``None`` until it is stored."""

    def payload_dict(self) -> dict[str, Any]:
        """The payload's fields as a plain dict (for tables and displays)."""
        return payload_fields(self.payload)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>"
            for k, v in self.payload_dict().items()
        )
        where = f" &middot; position {self.position}" if self.position is not None else ""
        return (
            f"<div><b>{html.escape(self.name)}</b> "
            f"<span style='color:#666'>{html.escape(self.aggregate_name)} "
            f"{html.escape(self.aggregate_id)} &middot; version {self.aggregate_version}"
            f"{where} &middot; {self.occurred_at:%Y-%m-%d %H:%M:%S}</span>"
            f"<table>{rows}</table></div>"
        )


def payload_fields(payload: Any) -> dict[str, Any]:
    """The top-level fields of a dataclass payload as a dict (``{}`` for no payload)."""
    if payload is None:
        return {}
    if is_dataclass(payload):
        return {f.name: getattr(payload, f.name) for f in fields(payload)}
    if isinstance(payload, Mapping):
        return dict(payload)
    return {"value": payload}
