"""Plain tables copied through CSV keep every value: NULL apart from '', quotes, newlines."""

from __future__ import annotations

import pytest

from tests.postgres_support import NO_PSYCOPG

pytest.importorskip("psycopg", reason=NO_PSYCOPG)

from datetime import UTC, datetime
from decimal import Decimal

from mallbots.es import Database
from mallbots.es.duckdb.transfer import DuckDBSide
from mallbots.es.postgres.transfer import PostgresSide
from mallbots.es.transfer import Plan, TransferError, copy_tables

AWKWARD_ROWS = [
    ("a", "", False, Decimal("0.00"), datetime(2024, 3, 4, 5, 6, 7, 123456, tzinfo=UTC), 1),
    ("b", None, None, None, None, None),
    ("c", 'quote " comma , newline \n return \r end', True, Decimal("-12345.67"), None, -2),
    ("d", "ünï ✓ \\. \\N NULL", True, Decimal("99999999999999999999999999999999999.99"), None, 3),
    ("\\.", "\\.", False, Decimal("0.01"), datetime(1970, 1, 1, tzinfo=UTC), 0),
]


def awkward_table(path) -> Database:
    database = Database.open(path)
    database.execute("CREATE SCHEMA odd")
    database.execute(
        'CREATE TABLE odd.things (id VARCHAR, "order" VARCHAR, "select" BOOLEAN, '
        'amount DECIMAL(38, 2), "at" TIMESTAMPTZ, n INTEGER, PRIMARY KEY (id))'
    )
    for row in AWKWARD_ROWS:
        database.execute("INSERT INTO odd.things VALUES ($1, $2, $3, $4, $5, $6)", row)
    return database


def test_awkward_values_make_the_round_trip(tmp_path, postgres):
    plan = Plan(events=(), plain=("odd.things",))
    with awkward_table(tmp_path / "a.duckdb") as source:
        copied = copy_tables(DuckDBSide(source), PostgresSide(postgres), plan)
    assert copied.rows == {"odd.things": len(AWKWARD_ROWS)}
    on_server = postgres.execute("SELECT * FROM odd.things ORDER BY id").fetchall()
    assert on_server == sorted(AWKWARD_ROWS)
    with Database.open(tmp_path / "b.duckdb") as back:
        copy_tables(PostgresSide(postgres), DuckDBSide(back), plan)
        assert back.execute("SELECT * FROM odd.things ORDER BY id").fetchall() == sorted(
            AWKWARD_ROWS
        )


def test_a_type_the_backends_do_not_share_is_refused_by_name(tmp_path, postgres):
    with Database.open(tmp_path / "a.duckdb") as source:
        source.execute("CREATE TABLE main.tagged (id VARCHAR PRIMARY KEY, tags VARCHAR[])")
        plan = Plan(events=(), plain=("main.tagged",))
        with pytest.raises(TransferError, match=r"main\.tagged: its columns tags VARCHAR\[\]"):
            copy_tables(DuckDBSide(source), PostgresSide(postgres), plan)
