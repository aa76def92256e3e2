"""Schema evolution on the real events, and snapshots that no longer fit."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mallbots import MallBots
from mallbots.es import serde
from mallbots.stores import GetProduct, IncreaseProductPrice
from mallbots.stores.events import ProductAdded
from mallbots.stores.upcasters import (
    PRICE_SQL,
    SKU_SQL,
    ProductAddedV1,
    append_v1_product_added,
    price_from_v1,
)
from tests.shop_scripts import GRAND_TOUR, run_script
from tests.test_books import read_models

OLD = [("old-1", 9.99), ("old-2", 0.1 + 0.2), ("old-3", 5)]


@pytest.fixture
def old_log(tmp_path):
    """A shop file whose first products were written by the old service (version 1)."""
    path = tmp_path / "old.duckdb"
    with MallBots.open(path, seed=1) as shop:
        for n, (product_id, price) in enumerate(OLD):
            append_v1_product_added(
                shop.stores.events,
                product_id,
                ProductAddedV1("store-1", f"Old {n}", "from the Go days", price),
                occurred_at=datetime(2023, 1, 1, n, tzinfo=UTC),
                event_id=f"00000000-0000-4000-8000-00000000000{n}",
            )
    return path


def test_a_log_written_with_old_event_versions_loads_into_current_types(old_log):
    stored = duckdb.connect(str(old_log))
    raw = stored.execute("SELECT event_data, metadata FROM stores.events ORDER BY ALL").fetchall()
    stored.close()
    assert raw[1] == (
        '{"store_id":"store-1","name":"Old 1","description":"from the Go days",'
        '"price":0.30000000000000004}',
        "{}",
    )
    with MallBots.open(old_log) as shop:  # opening catches the read models up
        added = shop.log.stream("stores.Product", "old-2")[0]
        assert added.payload == ProductAdded(
            "store-1", "Old 1", "from the Go days", "", Decimal("0.30")
        )
        assert [shop.execute(GetProduct(p)).price for p, _ in OLD] == [
            Decimal("9.99"),
            Decimal("0.30"),
            Decimal("5.00"),
        ]
        assert shop.load("stores.Product", "old-1").sku == ""
        shop.execute(IncreaseProductPrice("old-1", "10.49"))
        assert shop.execute(GetProduct("old-1")).price == Decimal("10.49")
        live = read_models(shop)
        shop.projector.rebuild(set_based=True)  # the SQL reads version 1 as the upcaster does
        assert read_models(shop) == live
        after = shop.database.execute(
            "SELECT event_data, metadata FROM stores.events WHERE stream_version = 1 "
            "AND stream_id LIKE 'old-%' ORDER BY ALL"
        ).fetchall()
        assert after == raw  # never rewritten


def test_new_product_events_are_stored_at_version_2():
    with MallBots.in_memory(seed=2) as shop:
        run_script(shop, [])
        metadata = shop.database.execute(
            "SELECT DISTINCT metadata FROM stores.events WHERE event_name = 'stores.ProductAdded'"
        ).fetchall()
        assert metadata == [('{"schema_version":2}',)]


prices = st.one_of(
    st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False),
    st.integers(min_value=0, max_value=10**12),
    st.decimals(min_value=0, max_value=10**12, places=2).map(str),
)


@settings(max_examples=300, deadline=None)
@given(price=prices)
def test_the_upcaster_and_its_sql_twin_read_a_version_1_price_alike(price):
    stored = json.dumps({"store_id": "s", "name": "n", "description": "d", "price": price})

    upcast = price_from_v1(serde.loads(stored)["price"])
    (in_sql,) = duckdb.execute(
        f"SELECT {PRICE_SQL} FROM (SELECT $1 AS event_data)", [stored]
    ).fetchone()
    assert Decimal(upcast) == in_sql
    (sku,) = duckdb.execute(f"SELECT {SKU_SQL} FROM (SELECT $1 AS event_data)", [stored]).fetchone()
    assert sku == ""


SNAPSHOT_DAMAGE = {
    "an unknown snapshot name": "UPDATE {t} SET snapshot_name = 'stores.NoSuchV9'",
    "a snapshot of an older shape": 'UPDATE {t} SET snapshot_data = \'{{"name": "Old"}}\'',
    "a snapshot that is not JSON": "UPDATE {t} SET snapshot_data = 'not json'",
}


@pytest.mark.parametrize("damage", SNAPSHOT_DAMAGE, ids=list(SNAPSHOT_DAMAGE))
def test_a_snapshot_that_no_longer_fits_is_ignored_and_the_events_replayed(damage):
    with MallBots.in_memory(seed=6, snapshot_every=1) as shop:
        run_script(shop, GRAND_TOUR)
        aggregates = shop.database.execute(
            f"SELECT DISTINCT stream_name, aggregate_id FROM ({shop.log.relation()})"
        ).fetchall()
        expected = {key: shop.aggregate_at(*key) for key in aggregates}
        assert {name for name, _ in aggregates} == set(shop.repositories)
        for schema in ("stores", "baskets", "ordering"):
            count = f"SELECT count(*) FROM {schema}.snapshots"
            assert shop.database.execute(count).fetchone()[0] > 0
            shop.database.execute(SNAPSHOT_DAMAGE[damage].format(t=f"{schema}.snapshots"))
        for key, replayed in expected.items():
            loaded = shop.load(*key)
            assert (loaded.version, loaded.state()) == (replayed.version, replayed.state())
