"""A whole shop on PostgreSQL: the write side on the server, the read side in DuckDB."""

from __future__ import annotations

import pandas as pd
import pytest

from mallbots.app import MallBots
from mallbots.demo import run_demo


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
    from mallbots.stores.application import CreateStore

    with MallBots.open(postgres_url, seed=1) as shop:
        store = shop.execute(CreateStore("Corner", "Level 1"))
        assert shop.stores.application.mall.find(store).name == "Corner"  # no execute between
        assert shop.projector.status()["lag"].tolist() == [0, 0, 0, 0]


def test_a_duckdb_shop_refuses_read_models_elsewhere():
    with pytest.raises(ValueError, match="PostgreSQL"):
        MallBots.open(":memory:", read_models="elsewhere.duckdb")
