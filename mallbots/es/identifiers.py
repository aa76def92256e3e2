"""Table names checked before they go into SQL text, on every backend, and the schema
they live in."""

from __future__ import annotations

import re

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


def checked_identifier(name: str) -> str:
    """``name`` if it is a plain (optionally schema-qualified) SQL identifier.

    Table names are the only SQL this package builds from strings; everything a user
    types travels as a bound parameter.
    """
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name


def schema_sql(table: str) -> list[str]:
    """The statement creating the schema of a qualified table name, if it has one (the
    same SQL on DuckDB and PostgreSQL)."""
    schema = checked_identifier(table).rpartition(".")[0]
    return [f"CREATE SCHEMA IF NOT EXISTS {schema}"] if schema else []
