"""Stream lifetime statistics, straight from the log."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mallbots import MallBots
from mallbots.es import EventLog
from mallbots.es.lifetimes import (
    ENDLESS,
    LONG_LIVED,
    SHORT_LIVED,
    Lifetime,
    classify_streams,
    events_over_time,
    events_per_type,
    lifetime_summary,
    stream_stats,
)
from tests.shop_scripts import GRAND_TOUR, run_script


@pytest.fixture
def log(bank):
    for n in range(3):
        account = bank.open_account(f"a{n}")
        for _ in range(n * 2):
            account.deposit(Decimal("1"))
        bank.accounts.save(account)
    return EventLog(bank.database, bank.registry)


def test_stream_stats_have_one_row_per_stream(log):
    stats = stream_stats(log)
    assert list(stats["stream_id"]) == ["a0", "a1", "a2"]
    assert list(stats["events"]) == [1, 3, 5]
    assert list(stats["version"]) == [1, 3, 5]
    assert stats.loc[2, "lifetime"].total_seconds() == 4  # one second per event


def test_the_summary_has_one_row_per_stream_type(log):
    summary = lifetime_summary(log).to_dict("records")[0]
    assert summary["stream_name"] == "bank.Account"
    assert (summary["streams"], summary["events"], summary["max_length"]) == (3, 9, 5)
    assert summary["median_length"] == 3
    assert lifetime_summary(log)["events"].dtype.kind == "i"  # a count, not 9.0


def test_events_per_type_and_over_time(log):
    per_type = events_per_type(log)
    assert dict(zip(per_type["event_name"], per_type["events"], strict=True)) == {
        "bank.MoneyDeposited": 6,
        "bank.AccountOpened": 3,
    }
    over_time = events_over_time(log, "1 hour")
    assert over_time["events"].sum() == 9
    with pytest.raises(ValueError, match="interval"):
        events_over_time(log, "1 day'; DROP TABLE x; --")


def test_streams_are_classed_short_lived_long_lived_or_endless(log):
    lifetimes = {"bank.Account": Lifetime(LONG_LIVED, frozenset({"bank.AccountClosed"}))}
    classes = classify_streams(log, lifetimes, endless_after=4)
    assert classes["lifetime"].tolist() == [LONG_LIVED, LONG_LIVED, ENDLESS]
    assert classes["ended"].tolist() == [False, False, False]
    assert classes["days"].tolist() == [0, 0, 0]  # rounded to 0.01 for reading: 4 s is 0.00
    assert classes["events_per_day"].tolist()[1:] == [3 / (2 / 86400), 5 / (4 / 86400)]
    short = classify_streams(log, {"bank.Account": Lifetime(SHORT_LIVED)}, endless_after=4)
    assert set(short["lifetime"]) == {SHORT_LIVED}  # short-lived streams are never endless


def test_the_shop_knows_its_stream_lifetimes():
    with MallBots.in_memory(seed=3) as shop:
        run_script(shop, GRAND_TOUR)
        classes = shop.lifetime_classes(endless_after=2)
        rows = {(r["stream_name"], r["lifetime"]): r for r in classes.to_dict("records")}
        assert set(rows) == {
            ("baskets.Basket", SHORT_LIVED),
            ("ordering.Order", SHORT_LIVED),
            ("stores.Product", LONG_LIVED),  # every long product stream had its books closed
            ("stores.Store", ENDLESS),  # created, enabled and disabled: past 2, never ending
            ("stores.Store", LONG_LIVED),
        }
        assert rows[("ordering.Order", SHORT_LIVED)]["ended"] == 2  # one completed, one cancelled
        streams = shop.stream_lifetimes(endless_after=2)
        closed = streams[streams["ended"] & (streams["stream_name"] == "stores.Product")]
        assert len(closed) == 4  # three closed books and a removal
        assert set(shop.lifetimes) == set(shop.repositories)
