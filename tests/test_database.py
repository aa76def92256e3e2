"""Opening databases: files, memory, sharing in a process, and a file locked by another."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from mallbots.es import Database, DatabaseLockedError


def test_opening_the_same_file_twice_in_a_process_shares_one_database(tmp_path):
    first = Database.open(tmp_path / "a.duckdb")
    second = Database.open(str(tmp_path / "." / "a.duckdb"))
    assert first is second
    first.close()
    assert Database.open(tmp_path / "a.duckdb") is not first


def test_a_file_held_by_another_process_gives_a_clear_error(tmp_path):
    path = tmp_path / "held.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, duckdb
                con = duckdb.connect({str(path)!r})
                print("ready", flush=True)
                sys.stdin.read()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(DatabaseLockedError) as caught:
            Database.open(path)
        message = str(caught.value)
        assert f"process {holder.pid}" in message
        assert "close that program" in message
        assert "Traceback" not in message
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_a_rolled_back_transaction_gives_its_positions_back(db):
    from tests.es_support import Bank

    bank = Bank(db, every=None)
    bank.open_account("a1")
    with pytest.raises(RuntimeError), db.transaction():
        account = bank.accounts.new("a2")
        account.open("Grace")
        bank.events.save(account)
        assert db.last_position == 2
        raise RuntimeError("changed my mind")
    assert db.last_position == 1
    assert bank.open_account("a3").version == 1
    assert db.execute("SELECT max(position) FROM bank.events").fetchone()[0] == 2


def test_nested_transactions_join_the_outermost(db):
    db.execute("CREATE TABLE t (x INTEGER)")
    with pytest.raises(RuntimeError), db.transaction():
        db.execute("INSERT INTO t VALUES (1)")
        with db.transaction():
            db.execute("INSERT INTO t VALUES (2)")
        raise RuntimeError("undo both")
    assert db.execute("SELECT count(*) FROM t").fetchone()[0] == 0


def test_table_names_must_be_plain_identifiers(db):
    from mallbots.es import EventStore
    from tests.es_support import bank_registry

    with pytest.raises(ValueError, match="identifier"):
        EventStore(db, bank_registry(), "bank.events; DROP TABLE x")


@pytest.mark.parametrize("stem", ["bank", "memory", "main"])
def test_a_file_may_be_named_like_a_schema_in_it(tmp_path, stem):
    """DuckDB names a file's catalog after the file: bank.duckdb would make 'bank.events'
    ambiguous (catalog bank or schema bank?). The Database must not care."""
    from decimal import Decimal

    from tests.es_support import Bank

    path = tmp_path / f"{stem}.duckdb"
    with Database.open(path) as db:
        bank = Bank(db)
        account = bank.open_account("a1")
        account.deposit(Decimal("5"))
        bank.accounts.save(account)
    with Database.open(path) as db:
        assert Bank(db).accounts.load("a1").balance == Decimal("5")
