"""Buffered plain tables: rows changed in memory, written a batch at a time, exactly."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from mallbots.bulk_tables import BufferedTable
from mallbots.table import Table

COLUMNS = {
    "id": "VARCHAR",
    "amount": "DECIMAL(38, 2) NOT NULL",
    "enabled": "BOOLEAN NOT NULL",
    "sent_at": "TIMESTAMPTZ NOT NULL",
    "note": "VARCHAR",
}
AT = datetime(2024, 3, 4, 9, 30, 0, 10_000, tzinfo=UTC)


def rows_of(table: Table) -> list[tuple]:
    return table.database.execute(f"SELECT * FROM {table.name} ORDER BY id").fetchall()


def write(buffered: BufferedTable) -> None:
    taken = buffered.take()
    assert taken is not None
    with buffered.table.database.transaction() as cursor:
        buffered.write(cursor, taken)


def test_buffered_rows_reach_the_table_as_a_plain_insert_and_update_would(db):
    plain = Table(db, "plain.rows", COLUMNS)
    buffered = BufferedTable(Table(db, "buffered.rows", COLUMNS))
    for table in (plain, buffered):
        table.insert(
            {"id": "a", "amount": Decimal("1.10"), "enabled": True, "sent_at": AT, "note": None}
        )
        table.insert(
            {"id": "b", "amount": Decimal("2"), "enabled": False, "sent_at": AT, "note": "ü"}
        )
    assert buffered.get("a")["amount"] == Decimal("1.10") and buffered.get("c") is None
    write(buffered)
    assert buffered.take() is None  # nothing changed since
    for table in (plain, buffered):
        table.update("a", enabled=False, amount=Decimal("0.99"))
        table.update("missing", enabled=True)  # a missing row stays missing
    write(buffered)  # replaces the row written by the first batch
    assert rows_of(buffered.table) == rows_of(plain)
    assert rows_of(plain)[0][1:4] == (Decimal("0.99"), False, AT)


def test_rows_let_go_once_written_are_read_back_from_the_table(db):
    waited = []
    buffered = BufferedTable(
        Table(db, "log.rows", COLUMNS), keep_written=False, wait=lambda: waited.append(1)
    )
    buffered.insert({"id": "a", "amount": Decimal(1), "enabled": True, "sent_at": AT, "note": "x"})
    write(buffered)
    assert buffered.get("a")["note"] == "x" and waited == [1]
    assert buffered.get("nope") is None


def test_a_buffered_table_refuses_queries_it_cannot_answer_yet(db):
    buffered = BufferedTable(Table(db, "q.rows", COLUMNS))
    with pytest.raises(RuntimeError, match=r"q\.rows is being bulk loaded"):
        buffered.select("note = $1", ["x"])


def test_rows_idle_for_a_whole_batch_are_let_go_and_read_back_when_used(db):
    waited = []
    buffered = BufferedTable(
        Table(db, "idle.rows", COLUMNS), let_go_idle=1, wait=lambda: waited.append(1)
    )
    for key in ("a", "b"):
        buffered.insert(
            {"id": key, "amount": Decimal(1), "enabled": True, "sent_at": AT, "note": key}
        )
    assert buffered.get("never") is None
    write(buffered)  # first batch: a and b written, both used in it
    buffered.update("a", note="a2")  # a used again, b idle
    write(buffered)  # b idle a whole batch: let go
    assert "b" not in buffered._rows and "a" in buffered._rows
    assert buffered.read_back == 0 and waited == []
    assert buffered.get("never") is None  # not in the table either: still no query
    assert buffered.get("b")["note"] == "b" and buffered.read_back == 1 and waited == [1]
    buffered.update("b", amount=Decimal("2.50"))
    write(buffered)
    assert [row[:2] for row in rows_of(buffered.table)] == [
        ("a", Decimal(1)),
        ("b", Decimal("2.50")),
    ]
    assert rows_of(buffered.table)[0][4] == "a2"


def test_with_two_idle_batches_a_row_idle_for_one_stays(db):
    buffered = BufferedTable(Table(db, "idle2.rows", COLUMNS), let_go_idle=2, wait=lambda: None)
    buffered.insert({"id": "a", "amount": Decimal(1), "enabled": True, "sent_at": AT, "note": "a"})
    write(buffered)  # a used in the first batch
    buffered.insert({"id": "b", "amount": Decimal(1), "enabled": True, "sent_at": AT, "note": "b"})
    write(buffered)  # a idle for one batch: kept
    assert "a" in buffered._rows
    buffered.update("b", note="b2")
    write(buffered)  # a idle for two: let go; b used in each
    assert "a" not in buffered._rows and "b" in buffered._rows
    assert buffered.get("a")["note"] == "a" and buffered.read_back == 1
