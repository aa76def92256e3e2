"""Reading streams back: every query shape gives the same events, in order, or an error.

The store reads a stream by its id alone (so DuckDB can use the stream index) and keeps
the right stream name, version window and order itself; a load that skips many events
filters the versions in SQL instead. Both shapes must agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from mallbots.es import CorruptEventError, EventLog, EventStore, SteppingClock
from mallbots.es.duckdb import stream_reads
from tests.es_support import Account, MoneyDeposited, bank_registry


def account_with_events(account_id: str, deposits: int, **kwargs) -> Account:
    account = Account(account_id, **kwargs)
    account.open("Ada")
    for n in range(deposits):
        account.deposit(Decimal(n + 1))
    return account


class Branch(Account):
    NAME = "bank.Branch"  # another stream name, sharing ids with accounts


def _branch(branch_id: str, deposits: int) -> Branch:
    branch = Branch(branch_id)
    branch.open("HQ")
    for _ in range(deposits):
        branch.deposit(Decimal("1"))
    return branch


@pytest.fixture(params=["whole stream by id", "versions filtered in SQL"])
def query_shape(request, monkeypatch):
    skip = 10**9 if request.param == "whole stream by id" else 1
    monkeypatch.setattr(stream_reads, "SKIP_IN_PYTHON", skip)
    return request.param


@pytest.mark.parametrize(("after", "upper"), [(0, None), (1, None), (3, 5), (0, 2), (7, None)])
def test_every_window_of_a_stream_reads_the_same_in_both_shapes(db, query_shape, after, upper):
    store = EventStore(db, bank_registry(), "bank.events")
    stored = store.save(account_with_events("a1", 6))
    window = store.load_stream("bank.Account", "a1", after_version=after, to_version=upper)
    assert window == [e for e in stored if after < e.aggregate_version <= (upper or 99)]


def test_streams_that_share_an_id_stay_apart(db, query_shape):
    store = EventStore(db, bank_registry(), "bank.events")
    accounts = store.save(account_with_events("x", 3))
    branches = store.save(_branch("x", 2))
    assert store.load_stream("bank.Account", "x") == accounts
    assert store.load_stream("bank.Branch", "x") == branches
    assert store.load_stream("bank.Account", "x", after_version=2) == accounts[2:]
    assert store.stream_version("bank.Branch", "x") == 3
    assert store.stream_version("bank.Nothing", "x") == 0


def test_rows_stored_out_of_order_load_in_version_order(db, query_shape):
    store = EventStore(db, bank_registry(), "bank.events")
    stored = store.save(account_with_events("a1", 5))
    db.execute("CREATE TABLE shuffled AS SELECT * FROM bank.events ORDER BY stream_version DESC")
    db.execute("DELETE FROM bank.events")
    db.execute("INSERT INTO bank.events SELECT * FROM shuffled")
    assert store.load_stream("bank.Account", "a1") == stored
    assert store.load_stream("bank.Account", "a1", after_version=2) == stored[2:]


@pytest.mark.parametrize(("missing", "after"), [(1, 0), (3, 0), (3, 1), (5, 2)])
def test_a_missing_version_is_named_in_both_shapes(db, query_shape, missing, after):
    store = EventStore(db, bank_registry(), "bank.events")
    store.save(account_with_events("a1", 5))
    db.execute("DELETE FROM bank.events WHERE stream_version = $1", [missing])
    with pytest.raises(CorruptEventError, match=f"version {missing} is missing"):
        store.load_stream("bank.Account", "a1", after_version=after)


def test_metadata_reads_back_from_streams_and_the_log(db):
    store = EventStore(db, bank_registry(), "bank.events")
    account = Account("a1")
    account.open("Ada")
    metadata = {"by": "till 3", "n": 1}
    account.record("bank.MoneyDeposited", MoneyDeposited(Decimal("5")), metadata=metadata)
    account.deposit(Decimal("2"))
    stored = store.save(account)
    loaded = store.load_stream("bank.Account", "a1")
    assert loaded == stored
    assert [dict(e.metadata) for e in loaded] == [{}, {"by": "till 3", "n": 1}, {}]
    assert list(EventLog(db, store.registry).events()) == stored


def test_event_times_read_back_exactly_far_from_now(db):
    store = EventStore(db, bank_registry(), "bank.events")
    for n, start in enumerate(
        [
            datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
            datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
            datetime(2024, 6, 30, 12, 0, 0, 123_457, tzinfo=UTC),
            datetime(2400, 1, 1, 0, 0, 0, 999_999, tzinfo=UTC),  # past the float-exact range
            datetime(1600, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
        ]
    ):
        stored = store.save(account_with_events(f"a{n}", 2, clock=SteppingClock(start)))
        loaded = store.load_stream("bank.Account", f"a{n}")
        assert [e.occurred_at for e in loaded] == [e.occurred_at for e in stored]
        assert loaded[0].occurred_at == start and loaded[0].occurred_at.tzinfo is UTC
