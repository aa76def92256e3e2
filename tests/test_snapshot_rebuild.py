"""Snapshots as a cache: an undecodable one is skipped with one warning; a rebuild writes
every snapshot afresh from the events, all or nothing."""

from __future__ import annotations

import logging

import pytest

from mallbots import MallBots
from mallbots.es import CorruptEventError
from mallbots.es.snapshot_rebuild import rebuild_snapshots
from mallbots.es.snapshots import EveryNEvents, never
from mallbots.ordering import GetOrder
from tests.reliability.small_mall import fill_small_mall


@pytest.fixture
def shop(db):
    shop = MallBots(db, snapshot_every=1)
    shop.orders = fill_small_mall(shop).orders
    return shop


def states(shop: MallBots) -> dict[str, dict]:
    return {order_id: shop.execute(GetOrder(order_id)).state() for order_id in shop.orders}


def test_undecodable_snapshots_fall_back_to_the_events_with_one_warning(shop, caplog):
    expected = states(shop)
    shop.database.execute("UPDATE ordering.snapshots SET snapshot_data = '{\"status\": 1'")
    with caplog.at_level(logging.WARNING, logger="mallbots.es.snapshots"):
        assert states(shop) == expected
        assert states(shop) == expected
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "ordering.snapshots" in warning and "mallbots rebuild --snapshots" in warning


def test_a_rebuild_writes_snapshots_that_load_as_the_events_replay(shop):
    expected = states(shop)
    shop.database.execute("UPDATE ordering.snapshots SET snapshot_data = 'garbage'")
    written = shop.rebuild_snapshots()
    assert written["ordering.snapshots"] == len(shop.orders)
    assert written["baskets.snapshots"] == len(shop.orders)
    heads = shop.database.execute(
        "SELECT count(*) FROM ordering.snapshots s JOIN (SELECT stream_id, max(stream_version) "
        "AS head FROM ordering.events GROUP BY ALL) e USING (stream_id) "
        "WHERE s.stream_version = e.head"
    ).fetchone()
    assert heads == (len(shop.orders),)  # each at its stream's newest version
    shop.ordering.snapshots.strategy = never  # loads must use the rebuilt rows as stored
    assert states(shop) == expected


def test_a_strategy_decides_which_streams_get_one(shop):
    store = shop.ordering.snapshots
    store.strategy = never
    assert (
        rebuild_snapshots(
            store, shop.ordering.events, [type(shop.execute(GetOrder(shop.orders[0])))]
        )
        == 0
    )
    assert store.frame().empty
    store.strategy = EveryNEvents(3)  # pending orders have 1 event, cancelled and readied 2
    order_type = type(shop.execute(GetOrder(shop.orders[0])))
    assert rebuild_snapshots(store, shop.ordering.events, [order_type]) == 3  # completed: 3


def test_a_rebuild_that_meets_a_bad_event_changes_nothing(shop):
    before = shop.ordering.snapshots.frame()
    shop.database.execute(
        "UPDATE ordering.events SET event_data = '{' WHERE stream_id = $1 AND stream_version = 1",
        [shop.orders[-1]],
    )
    with pytest.raises(CorruptEventError, match=shop.orders[-1]):
        shop.rebuild_snapshots()
    assert shop.ordering.snapshots.frame().equals(before)
