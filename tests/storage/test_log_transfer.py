"""Copying the log from a DuckDB file into PostgreSQL and back gives the same log."""

from __future__ import annotations

import pytest

from tests.postgres_support import NO_PSYCOPG

pytest.importorskip("psycopg", reason=NO_PSYCOPG)

import shutil
from decimal import Decimal

import pandas as pd

from mallbots.es import Database, EventLog
from mallbots.es.postgres import PostgresEventStore, PostgresLog
from mallbots.es.postgres.transfer import copy_log_to_duckdb, copy_log_to_postgres
from mallbots.es.transfer import TransferError
from tests.es_support import Bank, bank_registry
from tests.test_event_store import account_with_events


def bank_with_an_archive(path) -> Database:
    """A bank file: three accounts, the last one archived (so the archive holds the
    log's highest positions), with snapshots."""
    database = Database.open(path)
    bank = Bank(database)
    for account_id in ("a1", "a2", "a3"):
        account = bank.open_account(account_id, owner=f"Owner {account_id} ✓")
        for amount in ("1.10", "2.20", "3.30"):
            account.deposit(Decimal(amount))
            bank.accounts.save(account)
    bank.events.archive([("bank.Account", "a3")])
    return database


def test_a_log_copied_into_postgresql_and_back_is_the_same_log(tmp_path, postgres):
    source = bank_with_an_archive(tmp_path / "bank.duckdb")
    registry = bank_registry()
    assert copy_log_to_postgres(source, postgres) == 12
    before = EventLog(source, registry)
    on_server = PostgresLog(postgres, registry)
    assert on_server.tables == ["bank.events", "bank.events_archive"]
    assert list(on_server.events()) == list(before.events())
    back = Database.open(tmp_path / "back.duckdb")
    assert copy_log_to_duckdb(postgres, back) == 12
    pd.testing.assert_frame_equal(EventLog(back, registry).frame(), before.frame())
    assert back.last_position == 12
    source.close()
    back.close()


def test_the_server_log_continues_after_the_copied_one(tmp_path, postgres):
    source = bank_with_an_archive(tmp_path / "bank.duckdb")
    copy_log_to_postgres(source, postgres)
    store = PostgresEventStore(postgres, bank_registry(), "bank.events")
    assert [e.position for e in store.save(account_with_events("a4", 0))] == [13]
    source.close()


def test_copying_into_a_log_that_has_events_copies_nothing(tmp_path, postgres):
    source = bank_with_an_archive(tmp_path / "bank.duckdb")
    PostgresEventStore(postgres, bank_registry(), "bank.events_archive")
    PostgresEventStore(postgres, bank_registry(), "bank.events").save(account_with_events("z1", 0))
    with pytest.raises(TransferError, match=r"already holds rows in bank\.events \(1\)"):
        copy_log_to_postgres(source, postgres)
    assert PostgresLog(postgres, bank_registry()).count() == 1
    assert postgres.last_position == 1
    source.close()


def test_the_shops_log_makes_the_round_trip(shop_template, tmp_path, postgres):
    from mallbots import MallBots

    template, _ = shop_template
    shutil.copy(template, tmp_path / "shop.duckdb")
    with MallBots.open(tmp_path / "shop.duckdb") as shop:
        copy_log_to_postgres(shop.database, postgres)
        back = Database.open(tmp_path / "back.duckdb")
        copy_log_to_duckdb(postgres, back)
        assert sorted(back.log_tables) == sorted(shop.database.log_tables)
        pd.testing.assert_frame_equal(
            EventLog(back, shop.registry).frame(), EventLog(shop.database, shop.registry).frame()
        )
        assert list(PostgresLog(postgres, shop.registry).events()) == list(shop.log.events())
        back.close()
