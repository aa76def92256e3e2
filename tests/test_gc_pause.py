"""Loading a long stream pauses the cycle collector while it decodes, and always resumes it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from mallbots.es import CorruptEventError, decoding
from tests.es_support import Bank

EVENTS = 3000


@pytest.fixture
def long_account(bank: Bank) -> str:
    account = bank.open_account("long")
    for _ in range(EVENTS - 1):
        account.rename("Grace")
    bank.accounts.save(account)
    return account.id


@contextmanager
def collections_counted() -> Iterator[list[int]]:
    """A list that grows by one for each collection the cycle collector starts."""
    started: list[int] = []

    def count(phase: str, info: dict) -> None:
        if phase == "start":
            started.append(info["generation"])

    gc.callbacks.append(count)
    try:
        yield started
    finally:
        gc.callbacks.remove(count)


def test_decoding_a_long_stream_starts_at_most_one_collection_and_leaves_the_collector_on(
    bank, long_account, monkeypatch
):
    def collections_during_a_load() -> int:
        with collections_counted() as started:
            events = bank.events.load_stream("bank.Account", long_account)
        assert len(events) == EVENTS
        return len(started)

    assert gc.isenabled()
    assert collections_during_a_load() <= 1  # the one due when the pause ends, at most
    assert gc.isenabled()
    monkeypatch.setattr(decoding, "PAUSE_COLLECTOR_FROM", EVENTS + 1)
    assert collections_during_a_load() > 3  # without the pause: one per 700 objects made


def test_a_collector_switched_off_by_the_caller_stays_off(bank, long_account):
    gc.disable()
    try:
        assert len(bank.events.load_stream("bank.Account", long_account)) == EVENTS
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_corrupt_row_in_a_long_stream_still_resumes_the_collector(bank, long_account):
    bank.database.execute(
        "UPDATE bank.events SET event_data = 'nonsense' WHERE stream_version = 1500"
    )
    bank.events.forget_heads()
    with pytest.raises(CorruptEventError, match="event 1500 of stream"):
        bank.events.load_stream("bank.Account", long_account)
    assert gc.isenabled()
