"""A whole shop on PostgreSQL: the write side on the server, the read side in DuckDB."""

from __future__ import annotations

import multiprocessing
import time
from decimal import Decimal

import pandas as pd
import pytest

from tests.postgres_support import NO_PSYCOPG

pytest.importorskip("psycopg", reason=NO_PSYCOPG)

from mallbots.app import MallBots
from mallbots.demo import run_demo
from mallbots.es import Database
from mallbots.frames import exact_frame
from mallbots.stores import AddProduct, CreateStore, EnableParticipation, IncreaseProductPrice
from tests.storage.pg_shop_workers import raise_price_twice_if_need_be

spawn = multiprocessing.get_context("spawn")


def same_frames(left: pd.DataFrame, right: pd.DataFrame) -> bool:
    """Equal cell by cell as text (DuckDB and PostgreSQL give times and numbers their own
    pandas types: the values, not the dtypes, must agree)."""
    return list(left.columns) == list(right.columns) and (
        left.astype(str).values.tolist() == right.astype(str).values.tolist()
    )


def test_the_book_s_order_flow_on_postgresql_gives_a_duckdb_shop_s_tables(postgres_url):
    with MallBots.open(postgres_url, seed=7) as shop, MallBots.in_memory(seed=7) as embedded:
        assert run_demo(shop) == run_demo(embedded)
        assert shop.tables == embedded.tables
        different = [
            table
            for table in embedded.tables
            if not same_frames(shop.read_model(table), embedded.read_model(table))
        ]
        assert different == []
        assert same_frames(shop.log_frame(), embedded.log_frame())
        assert shop.sales_per_store().equals(embedded.sales_per_store())


def test_a_shop_reads_its_own_writes_at_once(postgres_url):
    with MallBots.open(postgres_url, seed=1) as shop:
        store = shop.execute(CreateStore("Corner", "Level 1"))
        assert shop.stores.application.mall.find(store).name == "Corner"  # no execute between
        assert shop.projector.status()["lag"].tolist() == [0, 0, 0, 0]


def test_a_duckdb_shop_refuses_read_models_elsewhere():
    with pytest.raises(ValueError, match="PostgreSQL"):
        MallBots.open(":memory:", read_models="elsewhere.duckdb")


def waiting_sessions(url: str) -> int:
    """How many sessions on the server wait for a lock (another transaction's)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()"
        ).fetchone()
    return count


def test_two_processes_on_one_mall_conflict_retry_and_catch_up_alike(postgres_url, tmp_path):
    """A command racing another process's on one product is refused, then succeeds on
    retry; both processes' read models end the same; the log is 1..N in commit order."""
    other_models = tmp_path / "other.duckdb"
    with MallBots.open(postgres_url, seed=1) as shop:
        store = shop.execute(CreateStore("Corner", "Level 1"))
        shop.execute(EnableParticipation(store))
        product = shop.execute(AddProduct(store, "Teapot", "20.00", "Six cups", "TEA"))
        ready, go, finish = spawn.Event(), spawn.Event(), spawn.Event()
        results = spawn.Queue()
        other = spawn.Process(
            target=raise_price_twice_if_need_be,
            args=(postgres_url, str(other_models), product, ready, go, finish, results),
        )
        other.start()
        try:
            assert ready.wait(60)
            with shop.server.transaction():  # our command has taken its positions ...
                shop.execute(IncreaseProductPrice(product, "25.00"))
                go.set()  # ... when the other process's command loads the product
                deadline = time.monotonic() + 30
                while waiting_sessions(postgres_url) == 0:  # and waits on our lock
                    assert time.monotonic() < deadline, "the other command never waited"
                    time.sleep(0.02)
            assert results.get(timeout=60) == ("conflict", 1, 1, 2)
            assert results.get(timeout=60) == ("saved", 2)
            finish.set()
            assert results.get(timeout=60) == ("closed",)
        finally:
            go.set()
            finish.set()
            other.join(60)
        assert other.exitcode == 0
        shop.catch_up()
        assert shop.stores.application.catalog.find(product).price == Decimal("30.00")
        log = shop.log_frame()
        assert log["position"].tolist() == list(range(1, len(log) + 1))
        assert log["event_name"].tolist()[-2:] == [
            "stores.ProductPriceIncreased",
            "stores.ProductPriceIncreased",
        ]
        with Database.open(other_models, read_only=True) as theirs:
            for table in [
                *shop.database.log_tables,
                *(t for p in shop.projector for t in p.tables),
            ]:
                ours = exact_frame(shop.database, f"SELECT * FROM {table} ORDER BY ALL")
                assert same_frames(ours, exact_frame(theirs, f"SELECT * FROM {table} ORDER BY ALL"))
