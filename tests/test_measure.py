"""Measuring loads: replay counts are exact; timings are only checked to exist."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mallbots import MallBots
from mallbots.es import AggregateNotFoundError
from mallbots.stores import CloseProductBooks, IncreaseProductPrice
from mallbots.viz.measure import (
    ProductStreams,
    best_ms,
    count_replayed,
    load_replays,
    rebuild_times,
    snapshot_load_times,
)
from mallbots.workbook import small_mall
from tests.es_support import Account
from tests.test_shop import tables_of


def test_count_replayed_sees_what_a_snapshot_saves(bank):
    account = bank.open_account("a1")
    for _ in range(4):
        account.deposit(Decimal("1"))
    bank.accounts.save(account)  # 5 events: the snapshot (every 3) is taken at 5
    account.deposit(Decimal("1"))
    bank.accounts.save(account)  # 6: crossing 6 takes another, at 6
    account.deposit(Decimal("1"))
    bank.accounts.save(account)  # 7: no snapshot
    from_events = Account("a1")
    assert count_replayed(bank.events, from_events) == 7
    from_snapshot = Account("a1")
    assert count_replayed(bank.store, from_snapshot) == 1
    assert from_snapshot.state() == from_events.state() and from_snapshot.version == 7
    assert "load_event" not in vars(from_snapshot)  # the counter is gone again


def test_product_streams_have_the_asked_length_and_snapshot_where_the_strategy_says():
    streams = ProductStreams(snapshot_every=75, chunk=25)
    try:
        streams.grow("p", 260)
        assert streams.snapshot_version("p") == 225
        from_events, replayed_all = streams.load("p", use_snapshot=False)
        from_snapshot, replayed_tail = streams.load("p", use_snapshot=True)
        assert (from_events.version, replayed_all) == (260, 260)
        assert (from_snapshot.version, replayed_tail) == (260, 35)
        assert from_snapshot.state() == from_events.state()
        assert from_events.price == Decimal("1.00") + Decimal("0.01") * 259
        streams.grow("short", 3)
        assert streams.snapshot_version("short") == 0
        with pytest.raises(ValueError):
            streams.grow("empty", 0)
    finally:
        streams.close()


def test_snapshot_load_times_reports_exact_replays_and_some_timing():
    data = snapshot_load_times(lengths=(10, 260), snapshot_every=75, repeats=1)
    assert list(data.columns) == ["length", "mode", "snapshot_version", "replayed", "ms"]
    assert data[["length", "mode", "snapshot_version", "replayed"]].to_dict("records") == [
        {"length": 10, "mode": "events only", "snapshot_version": 0, "replayed": 10},
        {"length": 10, "mode": "snapshot + newer events", "snapshot_version": 0, "replayed": 10},
        {"length": 260, "mode": "events only", "snapshot_version": 0, "replayed": 260},
        {"length": 260, "mode": "snapshot + newer events", "snapshot_version": 225, "replayed": 35},
    ]
    assert (data["ms"] > 0).all()


def test_best_ms_runs_the_action_each_time():
    calls = []
    assert best_ms(lambda: calls.append(1), repeats=3) >= 0
    assert len(calls) == 3
    with pytest.raises(ValueError):
        best_ms(lambda: None, repeats=0)


def test_rebuild_times_counts_the_events_each_way_and_leaves_the_read_models_as_they_were():
    with MallBots.in_memory(seed=4) as shop:
        small_mall(shop)
        live = tables_of(shop)
        data = rebuild_times(shop.projector, ["stores.mall", "reporting.sales"], repeats=2)
        assert list(data.columns) == ["projection", "mode", "events", "ms"]
        assert data[["projection", "mode", "events"]].to_dict("records") == [
            {"projection": "stores.mall", "mode": "per event", "events": 6},
            {"projection": "stores.mall", "mode": "set-based", "events": 6},
            {"projection": "reporting.sales", "mode": "per event", "events": 5},
            {"projection": "reporting.sales", "mode": "set-based", "events": 5},
        ]
        assert (data["ms"] > 0).all()
        assert tables_of(shop) == live
        assert shop.projector.status()["lag"].tolist() == [0, 0, 0, 0]
        every = rebuild_times(shop.projector, repeats=1)
        assert list(dict.fromkeys(every["projection"])) == [p.name for p in shop.projector]


def test_load_replays_counts_what_a_load_replays_before_and_after_the_books_close():
    with MallBots.in_memory(seed=4) as shop:
        small_mall(shop)  # the sprocket: added, then one price increase
        for cents in range(76, 86):
            shop.execute(IncreaseProductPrice("sprocket", f"4.{cents}"))
        assert load_replays(shop, "stores.Product", "sprocket") == {
            "stream": "sprocket",
            "version": 12,
            "events only": 12,
            "snapshot + newer events": 0,  # a snapshot every 3 events: one at 12
        }
        stream = shop.execute(CloseProductBooks("sprocket"))
        shop.execute(IncreaseProductPrice("sprocket", "5.00"))
        assert load_replays(shop, "stores.Product", "sprocket") == {
            "stream": stream,
            "version": 2,
            "events only": 2,
            "snapshot + newer events": 2,
        }
        assert load_replays(shop, "stores.Store", "bits")["events only"] == 1
        with pytest.raises(AggregateNotFoundError, match="no-such-product"):
            load_replays(shop, "stores.Product", "no-such-product")  # not a load of nothing
        with pytest.raises(KeyError, match=r"no stream type 'stores\.Nope'; the shop has"):
            load_replays(shop, "stores.Nope", "x")
