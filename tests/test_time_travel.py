"""Time travel returns exactly the state the live aggregate had, and old read models."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mallbots.es import AggregateNotFoundError, Database, EventLog
from mallbots.es.time_travel import (
    HISTORY_EVENT_COLUMNS,
    aggregate_at,
    history_frame,
    read_model_at,
)
from tests.es_support import Account, AccountError, Balances, Bank
from tests.test_projections import projector_for, read_model


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(["deposit", "withdraw", "rename"]), st.integers(1, 99)),
        max_size=25,
    )
)
def test_an_aggregate_at_each_version_is_the_live_state_at_that_version(script):
    with Database.memory() as db:
        bank = Bank(db, every=4)
        account = bank.open_account("a1")
        states = {1: account.state()}
        for command, amount in script:
            try:
                if command == "rename":
                    account.rename(f"owner {amount}")
                else:
                    getattr(account, command)(Decimal(amount))
            except AccountError:
                continue
            bank.accounts.save(account)
            states[account.version] = account.state()
        for version, state in states.items():
            assert aggregate_at(Account, bank.events, "a1", version=version).state() == state
        beyond = max(states) + 1
        with pytest.raises(ValueError, match=f"versions 1 to {beyond - 1}, not {beyond}"):
            aggregate_at(Account, bank.events, "a1", version=beyond)  # not the latest, quietly


def test_an_aggregate_at_a_moment(bank):
    account = bank.open_account("a1")  # 09:00:00 on the stepping clock
    account.deposit(Decimal("5"))  # 09:00:01
    account.deposit(Decimal("7"))  # 09:00:02
    bank.accounts.save(account)
    opened = bank.events.load_stream("bank.Account", "a1")[0].occurred_at
    assert aggregate_at(Account, bank.events, "a1", at=opened).balance == 0
    later = opened + timedelta(seconds=1, milliseconds=500)
    assert aggregate_at(Account, bank.events, "a1", at=later).balance == Decimal("5")
    with pytest.raises(AggregateNotFoundError):
        aggregate_at(Account, bank.events, "a1", at=opened - timedelta(seconds=1))


def test_the_history_frame_shows_the_state_after_each_event(bank):
    account = bank.open_account("a1")
    account.deposit(Decimal("5"))
    account.rename("Grace")
    bank.accounts.save(account)
    frame = history_frame(Account, bank.events, "a1")
    assert tuple(frame.columns[: len(HISTORY_EVENT_COLUMNS)]) == HISTORY_EVENT_COLUMNS
    assert list(frame["version"]) == [1, 2, 3]
    assert list(frame["event"]) == [
        "bank.AccountOpened",
        "bank.MoneyDeposited",
        "bank.AccountRenamed",
    ]
    assert list(frame["balance"]) == [0, 5, 5]
    assert list(frame["owner"]) == ["Ada", "Ada", "Grace"]


def test_the_history_of_an_id_with_no_events_is_not_found_not_an_empty_table(bank):
    bank.open_account("a1")
    with pytest.raises(AggregateNotFoundError, match="a2"):
        history_frame(Account, bank.events, "a2")  # a typo, say: said so, as aggregate_at does


def test_a_read_model_as_it_stood_at_each_position(db):
    bank = Bank(db, every=None)
    projector = projector_for(bank)
    log = EventLog(db, bank.registry)
    live_at: dict[int, list[tuple]] = {}
    for n in range(3):
        account = bank.open_account(f"a{n}")
        live_at[log.head()] = read_model(db)
        account.deposit(Decimal(n + 1))
        bank.accounts.save(account)
        live_at[log.head()] = read_model(db)
    for position, expected in live_at.items():
        frames = read_model_at(Balances("bank"), log, position)
        rows = list(frames["bank.balances"].itertuples(index=False, name=None))
        assert [tuple(row) for row in rows] == expected
    assert projector.position("bank.balances") == log.head()  # the live one is untouched
