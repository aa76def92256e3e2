"""The DuckDB event and snapshot tables: their columns and DDL, apart from the code that
uses them."""

from __future__ import annotations

from mallbots.es.event_rows import event_table_columns
from mallbots.es.identifiers import checked_identifier, schema_sql
from mallbots.es.snapshots import SNAPSHOT_TABLE_COLUMNS

APPENDED = (
    "position",
    "stream_id",
    "stream_name",
    "stream_version",
    "event_id",
    "event_name",
    "event_data",
    "metadata",
    "occurred_at",
)
APPEND_COLUMNS = ", ".join(APPENDED)
OFFSET_COLUMNS = ", ".join(["position + $1", *APPENDED[1:]])
"""What a columnar INSERT selects from prepared rows, whose positions are offsets."""


def event_table_sql(table: str) -> list[str]:
    """The statements that create an event table (the book's columns plus a global
    position and metadata) and its stream index, with its schema, if missing."""
    table = checked_identifier(table)
    name = table.rpartition(".")[2]
    return [
        *schema_sql(table),
        f"CREATE TABLE IF NOT EXISTS {table} ({event_table_columns(unique_position=False)})",
        # The primary key cannot serve "all events of stream X" (DuckDB does not scan a
        # prefix of a composite key), so the stream id gets an index of its own.
        f"CREATE INDEX IF NOT EXISTS {name}_by_stream ON {table} (stream_id)",
    ]


def snapshot_table_sql(table: str) -> list[str]:
    """The statements that create a snapshot table (the book's columns) and its stream
    index, with its schema, if missing."""
    table = checked_identifier(table)
    name = table.rpartition(".")[2]
    return [
        *schema_sql(table),
        f"CREATE TABLE IF NOT EXISTS {table} ({SNAPSHOT_TABLE_COLUMNS})",
        # DuckDB looks rows up by an index only for a single equality on its one
        # column, never by this composite key: reads go through the stream id.
        f"CREATE INDEX IF NOT EXISTS {name}_by_stream ON {table} (stream_id)",
    ]
