"""The tables of a PostgreSQL event store: the book's, one schema per module.

``stores.events`` and ``stores.snapshots`` hold the store module's events and
snapshots, as in the book's ``internal/postgres``, with two columns the book lacks: a
``position`` in the global log and the events' ``metadata``. Payloads are JSON text,
exactly as the registry wrote them.

Beside them, in the ``mallbots`` schema, every database has

- ``log_position``: one row holding the last global position handed out. An append
  updates it in its own transaction, so the row stays locked until that transaction
  ends: appends take positions one transaction after another, in commit order, and a
  reader following ``position > checkpoint`` never sees a lower position commit later
  (a plain ``bigserial`` hands them out when rows are inserted, not when they commit,
  and such a reader skips events; see :mod:`mallbots.classroom.race`);
- ``event_tables``: the event tables that make up the global log, so that a process
  reading the log finds the tables that other processes created.
"""

from __future__ import annotations

from mallbots.es.event_rows import event_table_columns
from mallbots.es.identifiers import checked_identifier, schema_sql
from mallbots.es.postgres.changes import TRACKING_SQL, tracked_table_sql
from mallbots.es.snapshots import SNAPSHOT_TABLE_COLUMNS

LOG_SCHEMA = "mallbots"
POSITION_TABLE = f"{LOG_SCHEMA}.log_position"
EVENT_TABLES = f"{LOG_SCHEMA}.event_tables"
CLAIM_POSITIONS = f"UPDATE {POSITION_TABLE} SET last_position = last_position + %s"
"""Claims the next ``%s`` positions, locking the counter's row until the transaction ends
(``RETURNING last_position`` gives the last of them)."""
DDL_LOCK = 2_026_120_601
"""An advisory lock key held while creating tables: ``CREATE ... IF NOT EXISTS`` run by
two sessions at once can still collide in PostgreSQL's catalog."""

LOG_SQL = [
    f"CREATE SCHEMA IF NOT EXISTS {LOG_SCHEMA}",
    f"""
    CREATE TABLE IF NOT EXISTS {POSITION_TABLE} (
        only_row      BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_row),
        last_position BIGINT  NOT NULL
    )
    """,
    # Not ON CONFLICT, which waits for an append in flight (it holds the counter's row):
    # a shop opening while another process's command runs must not stall behind it.
    f"INSERT INTO {POSITION_TABLE} SELECT true, 0 WHERE NOT EXISTS (SELECT FROM {POSITION_TABLE})",
    f"CREATE TABLE IF NOT EXISTS {EVENT_TABLES} (name TEXT PRIMARY KEY)",
    *TRACKING_SQL,  # what tracked_table_sql calls, made once per database opened
]


def event_table_sql(table: str) -> list[str]:
    """The statements that create an event table and count it into the global log."""
    table = checked_identifier(table)
    return [
        *schema_sql(table),
        f"CREATE TABLE IF NOT EXISTS {table} ({event_table_columns(unique_position=True)})",
        f"INSERT INTO {EVENT_TABLES} VALUES ('{table}') ON CONFLICT DO NOTHING",
        # Events written into the table by other means must not share positions.
        position_past_sql(table),
    ]


def head_sql(table: str, stream_id: str = "%s", stream_name: str = "%s") -> str:
    """A sub-query for a stream's head, its highest version (no row: no events).

    ``ORDER BY ... LIMIT 1`` reads one entry of the primary key's index. ``max()`` may
    read the whole stream: PostgreSQL chooses that plan when its statistics are those
    of a table just created, and an 80-event stream then took 82 buffers, not 3.
    """
    return (
        f"SELECT stream_version FROM {table} "
        f"WHERE stream_id = {stream_id} AND stream_name = {stream_name} "
        "ORDER BY stream_version DESC LIMIT 1"
    )


def position_past_sql(table: str) -> str:
    """The statement that moves the position counter past every event in ``table`` (it
    touches the counter's row only when behind, so it does not wait for an append)."""
    return (
        f"UPDATE {POSITION_TABLE} SET last_position = (SELECT max(position) FROM {table}) "
        f"WHERE last_position < (SELECT coalesce(max(position), 0) FROM {table})"
    )


def snapshot_table_sql(table: str, tracked: bool = True) -> list[str]:
    """The statements that create a snapshot table (the book's columns), with its changes
    tracked for a shop's read side to copy (see :mod:`mallbots.es.postgres.changes`)
    unless ``tracked`` is false."""
    table = checked_identifier(table)
    return [
        *schema_sql(table),
        f"CREATE TABLE IF NOT EXISTS {table} ({SNAPSHOT_TABLE_COLUMNS})",
        *(tracked_table_sql(table) if tracked else []),
    ]


def continuations_table_sql(table: str) -> list[str]:
    """The statements that create a continuations table (see :mod:`mallbots.es.books`),
    its changes tracked."""
    table = checked_identifier(table)
    return [
        *schema_sql(table),
        f"""
        CREATE TABLE IF NOT EXISTS {table} (
            stream_name  TEXT    NOT NULL,
            aggregate_id TEXT    NOT NULL,
            period       INTEGER NOT NULL,
            stream_id    TEXT    NOT NULL,
            PRIMARY KEY (stream_name, aggregate_id, period)
        )
        """,
        *tracked_table_sql(table),
    ]
