"""Measuring loads: replay counts are exact; timings are only checked to exist."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mallbots.viz.measure import ProductStreams, best_ms, count_replayed, snapshot_load_times
from tests.es_support import Account


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
