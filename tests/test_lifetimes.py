"""Stream lifetime statistics, straight from the log."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mallbots.es import EventLog
from mallbots.es.lifetimes import events_over_time, events_per_type, lifetime_summary, stream_stats


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
