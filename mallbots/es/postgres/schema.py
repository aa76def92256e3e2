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
  and such a reader skips events; see ``benchmarks/postgres_log_order.py``);
- ``event_tables``: the event tables that make up the global log, so that a process
  reading the log finds the tables that other processes created.
"""

from __future__ import annotations

from mallbots.es.identifiers import checked_identifier

LOG_SCHEMA = "mallbots"
POSITION_TABLE = f"{LOG_SCHEMA}.log_position"
EVENT_TABLES = f"{LOG_SCHEMA}.event_tables"
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
    f"INSERT INTO {POSITION_TABLE} VALUES (true, 0) ON CONFLICT DO NOTHING",
    f"CREATE TABLE IF NOT EXISTS {EVENT_TABLES} (name TEXT PRIMARY KEY)",
]


def schema_sql(table: str) -> list[str]:
    """The statement creating the schema of a qualified table name, if it has one."""
    schema = checked_identifier(table).rpartition(".")[0]
    return [f"CREATE SCHEMA IF NOT EXISTS {schema}"] if schema else []


def event_table_sql(table: str) -> list[str]:
    """The statements that create an event table and count it into the global log."""
    table = checked_identifier(table)
    return [
        *schema_sql(table),
        f"""
        CREATE TABLE IF NOT EXISTS {table} (
            position       BIGINT      NOT NULL UNIQUE,
            stream_id      TEXT        NOT NULL,
            stream_name    TEXT        NOT NULL,
            stream_version INTEGER     NOT NULL,
            event_id       UUID        NOT NULL UNIQUE,
            event_name     TEXT        NOT NULL,
            event_data     TEXT        NOT NULL,
            metadata       TEXT        NOT NULL DEFAULT '{{}}',
            occurred_at    TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (stream_id, stream_name, stream_version)
        )
        """,
        f"INSERT INTO {EVENT_TABLES} VALUES ('{table}') ON CONFLICT DO NOTHING",
        # Events written into the table by other means must not share positions.
        f"UPDATE {POSITION_TABLE} SET last_position = "
        f"greatest(last_position, (SELECT coalesce(max(position), 0) FROM {table}))",
    ]


def snapshot_table_sql(table: str) -> list[str]:
    """The statements that create a snapshot table (the book's columns)."""
    table = checked_identifier(table)
    return [
        *schema_sql(table),
        f"""
        CREATE TABLE IF NOT EXISTS {table} (
            stream_id      TEXT        NOT NULL,
            stream_name    TEXT        NOT NULL,
            stream_version INTEGER     NOT NULL,
            snapshot_name  TEXT        NOT NULL,
            snapshot_data  TEXT        NOT NULL,
            updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (stream_id, stream_name)
        )
        """,
    ]
