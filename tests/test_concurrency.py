"""Two writers, one aggregate: one lands, the other gets the concurrency error."""

from __future__ import annotations

import contextlib
import threading
from decimal import Decimal

import pytest

from mallbots.es import ConcurrencyError
from tests.es_support import Bank


def versions(bank: Bank, account_id: str) -> list[int]:
    return [
        row[0]
        for row in bank.database.execute(
            "SELECT stream_version FROM bank.events WHERE stream_id = $1 ORDER BY 1",
            [account_id],
        ).fetchall()
    ]


def test_two_writers_from_the_same_version(bank):
    bank.open_account("a1")
    first, second = bank.accounts.load("a1"), bank.accounts.load("a1")
    first.deposit(Decimal("1"))
    second.deposit(Decimal("2"))
    bank.accounts.save(first)
    with pytest.raises(ConcurrencyError) as caught:
        bank.accounts.save(second)
    assert (caught.value.expected, caught.value.actual) == (1, 2)
    assert versions(bank, "a1") == [1, 2]
    assert bank.accounts.load("a1").balance == Decimal("1")


@pytest.mark.parametrize("every", [None, 2])
def test_threads_racing_on_one_aggregate_leave_no_gap_and_no_duplicate(db, every):
    bank = Bank(db, every=every)
    bank.open_account("a1")
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def writer():
        account = bank.accounts.load("a1")
        account.deposit(Decimal("1"))
        barrier.wait()
        try:
            bank.accounts.save(account)
            outcomes.append("landed")
        except ConcurrencyError:
            outcomes.append("conflict")

    for _ in range(5):
        threads = [threading.Thread(target=writer) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    landed = outcomes.count("landed")
    assert landed >= 5 and landed + outcomes.count("conflict") == 20
    assert versions(bank, "a1") == list(range(1, landed + 2))
    assert bank.accounts.load("a1").balance == Decimal(landed)
    positions = [
        row[0] for row in db.execute("SELECT position FROM bank.events ORDER BY 1").fetchall()
    ]
    assert positions == list(range(1, landed + 2))


def test_two_stores_on_one_table_see_each_others_saves(db):
    """Each EventStore caches stream heads; a stale cache must not invent a conflict."""
    first, second = Bank(db, every=None, seed=1), Bank(db, every=None, seed=2)
    first.open_account("a1")
    for bank in (first, second, first, second):
        account = bank.accounts.load("a1")
        account.deposit(Decimal("1"))
        bank.accounts.save(account)  # the stream moved on through the other store
    assert versions(first, "a1") == [1, 2, 3, 4, 5]
    # a save that really is stale is still refused, with the true stream version
    stale = first.accounts.load("a1")
    second_account = second.accounts.load("a1")
    second_account.deposit(Decimal("1"))
    second.accounts.save(second_account)
    stale.deposit(Decimal("1"))
    with pytest.raises(ConcurrencyError) as caught:
        first.accounts.save(stale)
    assert (caught.value.expected, caught.value.actual) == (5, 6)


def test_a_conflict_inside_a_transaction_leaves_it_usable_for_a_retry(bank):
    """The store refuses a stale save before writing: DuckDB never sees a failed insert,
    which would abort the caller's whole transaction. So a command may catch the
    conflict, load again and retry, and everything it did commits."""
    bank.open_account("a1")
    stale = bank.accounts.load("a1")
    other = bank.accounts.load("a1")
    other.deposit(Decimal("5"))
    bank.accounts.save(other)
    with bank.database.transaction():
        bank.open_account("a2")  # work done before the conflict, in the same transaction
        stale.deposit(Decimal("7"))
        with pytest.raises(ConcurrencyError):
            bank.accounts.save(stale)
        fresh = bank.accounts.load("a1")
        fresh.deposit(Decimal("7"))
        bank.accounts.save(fresh)
    assert bank.accounts.load("a1").balance == Decimal("12")
    assert bank.accounts.load("a2").owner == "Ada"
    assert versions(bank, "a1") == [1, 2, 3]


def test_a_copy_loaded_in_a_transaction_that_rolled_back_is_ahead_and_refused(bank):
    """A copy may be ahead of its stream: it saw events that were then rolled back. Its
    save would leave a gap in the stream's versions, which no key refuses; the expected
    version does."""
    bank.open_account("a1")
    with contextlib.suppress(RuntimeError), bank.database.transaction():
        writer = bank.accounts.load("a1")
        writer.deposit(Decimal("5"))
        bank.accounts.save(writer)
        ahead = bank.accounts.load("a1")  # at version 2, inside the transaction
        raise RuntimeError("the command changed its mind")
    ahead.deposit(Decimal("7"))
    with pytest.raises(ConcurrencyError) as caught:
        bank.accounts.save(ahead)
    assert (caught.value.expected, caught.value.actual) == (2, 1)
    assert versions(bank, "a1") == [1]
    assert bank.accounts.load("a1").balance == Decimal("0")
