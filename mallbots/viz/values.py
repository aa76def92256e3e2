"""Events and aggregate states as small HTML tables, nested values included.

A basket's items, an order's lines: a list (or a dict by product) of records becomes a
table with a row per record and a column per field, not a Python repr on one line.
Money shows as its digits, an enum as its value, an empty collection as "(none)".
"""

from __future__ import annotations

import dataclasses
import enum
import html
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from mallbots.es.aggregate import Aggregate
from mallbots.es.events import AggregateEvent

STYLE = (
    "<style>.mb-fields{border-collapse:collapse}.mb-fields>tbody>tr>th{text-align:left;"
    "vertical-align:top;color:#555;padding:2px 10px 2px 0;font-weight:normal}"
    ".mb-fields>tbody>tr>td{text-align:left;padding:2px 0}"
    ".mb-records{border-collapse:collapse;font-size:90%}.mb-records th,.mb-records td"
    "{padding:1px 6px;text-align:left;border-bottom:1px solid #eee}"
    ".mb-records th{color:#555;font-weight:normal}</style>"
)


def record_fields(value: Any) -> dict[str, Any] | None:
    """A record's fields by name (a dataclass or a mapping), or None for a plain value."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return dict(value)
    return None


def scalar_text(value: Any) -> str:
    """A plain value as a reader would write it: ``12.00``, ``checked_out``, ``—``."""
    if value is None or value == "":
        return "—"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}"
    return str(value)


def value_html(value: Any) -> str:
    """Any value of a payload or state as HTML: records as tables, the rest as text."""
    if isinstance(value, (str, bytes)):
        return html.escape(scalar_text(value))
    records = _records(value)
    if records is not None:
        return records_html(records) if records else "<i>(none)</i>"
    fields = record_fields(value)
    if fields is not None:
        return fields_html(fields) if fields else "<i>(none)</i>"
    if isinstance(value, Sequence):
        return html.escape(", ".join(scalar_text(item) for item in value)) or "<i>(none)</i>"
    return html.escape(scalar_text(value))


def _records(value: Any) -> list[dict[str, Any]] | None:
    """A collection of records as a list of field dicts (a mapping's values: a basket
    keys its items by product, and each item names its product); None if ``value`` is
    not a collection of records."""
    if isinstance(value, Mapping):
        items = list(value.values())
        if not items or any(record_fields(item) is None for item in items):
            return [] if not items else None
        return [record_fields(item) or {} for item in items]
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        if not value:
            return []
        found = [record_fields(item) for item in value]
        return None if any(fields is None for fields in found) else found  # type: ignore[misc]
    return None


def records_html(records: list[dict[str, Any]]) -> str:
    """Records as a table: a row each, a column per field (in the order first seen)."""
    columns = list(dict.fromkeys(name for record in records for name in record))
    head = "".join(f"<th>{html.escape(column)}</th>" for column in columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{value_html(record.get(c))}</td>" for c in columns) + "</tr>"
        for record in records
    )
    return f"<table class='mb-records'><tr>{head}</tr>{rows}</table>"


def fields_html(fields: Mapping[str, Any]) -> str:
    """Named values as a two-column table, a nested value as its own small table."""
    rows = "".join(
        f"<tr><th>{html.escape(name)}</th><td>{value_html(value)}</td></tr>"
        for name, value in fields.items()
    )
    return f"<table class='mb-fields'><tbody>{rows}</tbody></table>"


def event_html(event: AggregateEvent) -> str:
    """One event: its name, stream, version, position and time, then its payload."""
    where = f" · position {event.position}" if event.position is not None else ""
    payload = event.payload_dict()
    return (
        STYLE + f"<div><b>{html.escape(event.name)}</b><br><span style='color:#666'>"
        f"{html.escape(event.aggregate_name)} {html.escape(event.aggregate_id)} · version "
        f"{event.aggregate_version}{where} · {event.occurred_at:%Y-%m-%d %H:%M:%S}</span></div>"
        + (fields_html(payload) if payload else "<i>no payload</i>")
    )


def state_html(aggregate: Aggregate) -> str:
    """An aggregate's state after its last event: a field a row, items as a table."""
    return (
        STYLE + f"<div><b>{html.escape(aggregate.NAME)}</b> "
        f"<span style='color:#666'>version {aggregate.version}</span></div>"
        + fields_html(aggregate.state())
    )
