"""One suite of the event store's behaviour, run on every backend (see ``conftest.backend``).

DuckDB in memory, a DuckDB file and PostgreSQL must agree: what an append returns, what
a conflict or a duplicate refuses, what a load and the global log give back, snapshots
written with their events, and that a refused payload writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import pandas as pd
import pytest

from mallbots.es import (
    AggregateRepository,
    ConcurrencyError,
    CorruptEventError,
    DuplicateEventError,
    PayloadError,
)
from mallbots.es.errors import RegistryError
from mallbots.es.event_rows import StreamAppend
from mallbots.es.events import AggregateEvent
from mallbots.es.snapshot_rebuild import rebuild_snapshots
from tests.es_support import Account, AccountV1, bank_registry
from tests.storage.backends import BankOn
from tests.test_event_store import account_with_events, conflict_of


def test_appended_events_load_back_equal_with_positions(backend):
    store = backend.event_store(bank_registry())
    stored = store.save(account_with_events("a1", 3))
    assert [e.position for e in stored] == [1, 2, 3, 4]
    assert store.load_stream("bank.Account", "a1") == stored
    assert [e.aggregate_version for e in store.load_stream("bank.Account", "a1", 2)] == [3, 4]
    assert [e.aggregate_version for e in store.load_stream("bank.Account", "a1", 1, 3)] == [2, 3]
    assert store.stream_version("bank.Account", "a1") == 4
    assert store.stream_version("bank.Account", "nobody") == 0


def test_payloads_and_times_come_back_exactly(backend):
    store = backend.event_store(bank_registry())
    account = Account("a1")
    account.open("Zoë 👋")
    account.deposit(Decimal("12345678901234567890.000000001"))
    stored = store.save(account)
    (loaded,) = backend.log(bank_registry()).batches()
    assert loaded == stored
    assert loaded[1].payload.amount == Decimal("12345678901234567890.000000001")
    assert loaded[0].occurred_at == account.events[0].occurred_at


def test_a_stale_expected_version_is_a_conflict_and_writes_nothing(backend):
    store = backend.event_store(bank_registry())
    store.save(account_with_events("a1", 1))
    stale = account_with_events("a1", 2)  # a copy that never saw the stored events
    with pytest.raises(ConcurrencyError) as caught:
        store.save(stale)
    assert (caught.value.expected, caught.value.actual) == (0, 2)
    assert backend.count("bank.events") == 2
    ahead = account_with_events("a1", 5).events[5:]  # version 6, after a version 5
    with pytest.raises(ConcurrencyError) as caught:
        store.append("bank.Account", "a1", 5, ahead)
    assert (caught.value.expected, caught.value.actual) == (5, 2)
    assert backend.count("bank.events") == 2


def test_a_refused_append_leaves_no_hole_in_the_log(backend):
    store = backend.event_store(bank_registry())
    store.save(account_with_events("a1", 1))
    with pytest.raises(ConcurrencyError):
        store.save(account_with_events("a1", 1))
    stored = store.save(account_with_events("a2", 0))
    assert [e.position for e in stored] == [3]


def test_an_event_id_stored_before_is_a_duplicate_and_writes_nothing(backend):
    store = backend.event_store(bank_registry())
    (first,) = store.save(account_with_events("a1", 0))
    other = account_with_events("a2", 1)
    again = [other.events[0]._replace(id=first.id), other.events[1]]
    with pytest.raises(DuplicateEventError) as caught:
        store.append("bank.Account", "a2", 0, again)
    assert caught.value.event_ids == [first.id]
    assert backend.count("bank.events") == 1
    assert [e.position for e in store.save(account_with_events("a3", 0))] == [2]


def test_append_many_writes_all_streams_or_none(backend):
    store = backend.event_store(bank_registry())
    store.save(account_with_events("a1", 0))
    a2, a1 = account_with_events("a2", 1), account_with_events("a1", 1)
    appends = [
        StreamAppend("bank.Account", "a2", 0, a2.events),
        StreamAppend("bank.Account", "a1", 0, a1.events),  # a1 is at version 1
    ]
    with pytest.raises(ConcurrencyError):
        store.append_many(appends)
    assert backend.count("bank.events") == 1
    a1_more = a1.events[1:]
    assert store.append_many([appends[0], StreamAppend("bank.Account", "a1", 1, a1_more)]) == 3
    log = [
        (e.aggregate_id, e.aggregate_version, e.position)
        for e in store.load_stream("bank.Account", "a2")
    ] + [
        (e.aggregate_id, e.aggregate_version, e.position)
        for e in store.load_stream("bank.Account", "a1")
    ]
    assert log == [("a2", 1, 2), ("a2", 2, 3), ("a1", 1, 1), ("a1", 2, 4)]


@pytest.mark.parametrize(
    ("expected", "refusal"), [(-1, ValueError), (True, TypeError), (0.0, TypeError)]
)
def test_a_batch_with_an_impossible_expected_version_writes_nothing(backend, expected, refusal):
    """As for a single append: the bulk path checks the expected version too."""
    store = backend.event_store(bank_registry())
    events = account_with_events("a1", 1).events
    with pytest.raises(refusal, match="expected version"):
        store.append_many([StreamAppend("bank.Account", "a1", expected, events)])
    assert backend.count("bank.events") == 0


@pytest.mark.parametrize("second_expected", [0, 1])
def test_a_stream_twice_in_one_batch_must_take_up_where_it_left_off(backend, second_expected):
    """The second append expects the stream as it was (0) or part way through the first (1)."""
    store = backend.event_store(bank_registry())
    first, again = account_with_events("a1", 1), account_with_events("a1", 1)
    appends = [
        StreamAppend("bank.Account", "a1", 0, first.events),
        # a1 is at 2 after the first; these take up from second_expected
        StreamAppend("bank.Account", "a1", second_expected, again.events[second_expected:]),
    ]
    with pytest.raises(ConcurrencyError) as caught:
        store.append_many(appends)
    assert conflict_of(caught) == ("bank.Account", "a1", second_expected, 2)
    assert backend.count("bank.events") == 0
    assert backend.log(bank_registry()).head() == 0


def test_a_large_batch_lands_whole_in_order_or_not_at_all(backend):
    """More events than one statement lists as values: the PostgreSQL store sends them
    as binary arrays instead, with the same checks."""
    store = backend.event_store(bank_registry())
    big, other = account_with_events("a1", 99), account_with_events("a2", 0)
    stale = account_with_events("a2", 0)
    store.save(other)
    with pytest.raises(ConcurrencyError):
        store.append_many(
            [
                StreamAppend("bank.Account", "a1", 0, big.events),
                StreamAppend("bank.Account", "a2", 0, stale.events),  # a2 is at version 1
            ]
        )
    assert backend.count("bank.events") == 1
    assert store.append_many([StreamAppend("bank.Account", "a1", 0, big.events)]) == 100
    loaded = store.load_stream("bank.Account", "a1")
    assert [(e.aggregate_version, e.position) for e in loaded] == [
        (version, version + 1) for version in range(1, 101)
    ]
    assert [e.id for e in loaded] == [e.id for e in big.events]


def test_the_log_interleaves_tables_in_position_order(backend):
    registry = bank_registry()
    bank, other = backend.event_store(registry), backend.event_store(registry, "branch.events")
    bank.save(account_with_events("a1", 1))
    other.save(account_with_events("b1", 0))
    bank.save(account_with_events("a2", 0))
    log = backend.log(registry)
    events = [e for batch in log.batches(batch_size=2) for e in batch]
    assert [(e.aggregate_id, e.position) for e in events] == [
        ("a1", 1),
        ("a1", 2),
        ("b1", 3),
        ("a2", 4),
    ]
    assert log.head() == 4
    assert [e.position for e in log.read_range(1, 3)] == [2, 3]
    names = {"bank.MoneyDeposited"}
    assert [e.position for e in log.read_range(0, 4, names)] == [2]
    assert list(log.frame(after_position=2)["position"]) == [3, 4]


def test_events_in_one_transaction_commit_together_and_run_hooks_after(backend):
    store = backend.event_store(bank_registry())
    committed: list[str] = []
    with backend.transaction():
        store.save(account_with_events("a1", 0))
        store.save(account_with_events("a2", 0))
        backend.database.after_commit(lambda: committed.append("done"))
        assert committed == []
    assert committed == ["done"]
    rolled_back: list[str] = []
    with pytest.raises(RuntimeError), backend.transaction():
        store.save(account_with_events("a3", 0))
        backend.database.after_commit(
            lambda: committed.append("no"), on_rollback=lambda: rolled_back.append("yes")
        )
        raise RuntimeError("the command failed")
    assert (committed, rolled_back) == (["done"], ["yes"])
    assert backend.count("bank.events") == 2
    assert [e.position for e in store.save(account_with_events("a4", 0))] == [3]


def test_a_snapshot_is_written_with_its_events_and_restores_the_aggregate(backend):
    bank = BankOn(backend)
    account = bank.accounts.new("a1")
    account.open("Ada")
    account.deposit(Decimal("5"))
    bank.accounts.save(account)
    assert bank.snapshots.read("bank.Account", "a1") is None
    account.deposit(Decimal("2.50"))
    bank.accounts.save(account)  # version 3: a snapshot
    version, name, _ = bank.snapshots.read("bank.Account", "a1")
    assert (version, name) == (3, "bank.AccountV1")
    loaded = bank.accounts.load("a1")
    assert (loaded.version, loaded.balance, loaded.history) == (3, Decimal("7.50"), account.history)
    replayed = Account("a1")
    for event in bank.events.load_stream("bank.Account", "a1"):
        replayed.load_event(event)
    assert (
        replayed.to_snapshot()
        == loaded.to_snapshot()
        == AccountV1(
            "Ada", Decimal("7.50"), False, ("AccountOpened", "MoneyDeposited", "MoneyDeposited")
        )
    )


def test_a_refused_save_writes_no_snapshot(backend):
    bank = BankOn(backend)
    account = bank.accounts.new("a1")
    account.open("Ada")
    bank.accounts.save(account)
    stale = bank.accounts.load("a1")
    account.deposit(Decimal(1))
    bank.accounts.save(account)
    stale.deposit(Decimal(2))
    stale.deposit(Decimal(3))  # would reach version 3: a snapshot
    with pytest.raises(ConcurrencyError):
        bank.accounts.save(stale)
    assert bank.snapshots.read("bank.Account", "a1") is None
    assert backend.count("bank.events") == 2


@dataclass(frozen=True)
class Odd:
    """Not the payload any bank event is registered with."""

    amount: str


def refused_batches(account: Account) -> list[tuple[type[Exception], list[AggregateEvent]]]:
    opened = account.events[0]
    naive = opened.occurred_at.replace(tzinfo=None)
    return [
        (PayloadError, [opened._replace(payload=Odd("1"))]),
        (PayloadError, [opened._replace(name="bank.MoneyDeposited", payload=Odd("x"))]),
        (ValueError, [opened._replace(id="not-a-uuid")]),
        (ValueError, [opened._replace(occurred_at=naive)]),
        (ValueError, [opened._replace(metadata={"bad": float("nan")})]),
        (ValueError, [opened._replace(aggregate_version=2)]),
    ]


def test_a_refused_payload_writes_nothing(backend):
    store = backend.event_store(bank_registry())
    store.save(account_with_events("a0", 0))
    account = account_with_events("a1", 0)
    for error, events in refused_batches(account):
        with pytest.raises(error):
            store.append("bank.Account", "a1", 0, events)
        assert backend.count("bank.events") == 1, events
    assert [e.position for e in store.save(account)] == [2]
    assert isinstance(account.events[0].occurred_at, datetime)


def test_a_conflict_caught_inside_a_transaction_leaves_no_hole(backend):
    store = backend.event_store(bank_registry())
    store.save(account_with_events("a1", 0))
    with backend.transaction():
        with pytest.raises(ConcurrencyError):
            store.save(account_with_events("a1", 0))
        stored = store.save(account_with_events("a2", 0))
    assert [e.position for e in stored] == [2]
    assert backend.log(bank_registry()).head() == 2


class UnsnapshottableAccount(Account):
    """An account whose snapshot type was never registered."""

    def to_snapshot(self) -> Odd:
        return Odd(str(self.balance))


def test_events_whose_snapshot_cannot_be_written_are_not_written_either(backend):
    bank = BankOn(backend)
    repository = AggregateRepository(UnsnapshottableAccount, bank.store)
    account = repository.new("a1")
    account.open("Ada")
    account.deposit(Decimal(1))
    account.deposit(Decimal(2))  # version 3: a snapshot, which the registry refuses
    with pytest.raises(RegistryError, match="no snapshot name is registered for Odd"):
        repository.save(account)
    assert backend.count("bank.events") == 0
    assert backend.database.last_position == 0


@pytest.mark.parametrize("deposits", [0, 1, 2, 3, 7])
def test_a_load_restores_the_snapshot_then_replays_only_what_came_after(backend, deposits):
    bank = BankOn(backend)  # a snapshot every 3 events
    account = bank.accounts.new("a1")
    account.open("Ada")
    bank.accounts.save(account)
    for amount in range(1, deposits + 1):
        account.deposit(Decimal(amount))
        bank.accounts.save(account)
    loaded = bank.accounts.load("a1")
    replayed = Account("a1")
    for event in bank.events.load_stream("bank.Account", "a1"):
        replayed.load_event(event)
    assert loaded.version == deposits + 1
    assert loaded.to_snapshot() == replayed.to_snapshot()
    snapshot = bank.snapshots.read("bank.Account", "a1")
    assert (snapshot[0] if snapshot else 0) == (deposits + 1) // 3 * 3
    if snapshot:  # events the snapshot covers are no longer read: break them all
        backend.database.execute(
            "UPDATE bank.events SET event_data = '{' "
            f"WHERE stream_id = 'a1' AND stream_version <= {snapshot[0]}"
        )
        with pytest.raises(CorruptEventError):
            bank.events.load_stream("bank.Account", "a1")  # as a full replay would
        reloaded = bank.accounts.load("a1")
        assert reloaded.version == deposits + 1
        assert reloaded.to_snapshot() == replayed.to_snapshot()


def test_a_snapshot_that_no_longer_decodes_is_passed_over_for_the_events(backend, caplog):
    bank = BankOn(backend)
    account = bank.accounts.new("a1")
    account.open("Ada")
    for amount in (1, 2, 3):
        account.deposit(Decimal(amount))
    bank.accounts.save(account)  # version 4: a snapshot
    backend.database.execute("UPDATE bank.snapshots SET snapshot_data = '{\"nonsense\": 1}'")
    loaded = bank.accounts.load("a1")
    assert (loaded.version, loaded.balance) == (4, Decimal(6))
    assert loaded.history == account.history
    assert "cannot be used" in caplog.text


# --- writing the snapshots afresh ------------------------------------------------------------


def accounts_of_three_lengths(store) -> None:
    """a1 with 3 events, a2 with 5, a3 with 2 (below a snapshot every three), saved with
    no snapshot."""
    for account_id, deposits in (("a1", 2), ("a2", 4), ("a3", 1)):
        store.save(account_with_events(account_id, deposits))


@pytest.mark.parametrize("batch_size", [1, 2, 100])
def test_a_rebuild_writes_each_long_stream_a_snapshot_that_loads_as_a_replay(backend, batch_size):
    registry = bank_registry()
    store = backend.event_store(registry)
    accounts_of_three_lengths(store)
    snapshots = backend.snapshots(registry)(store)
    snapshots.write(account_with_events("a3", 1))  # one the rebuild must not keep,
    backend.database.execute(  # though it no longer decodes
        "UPDATE bank.snapshots SET snapshot_name = 'x', snapshot_data = '{\"nonsense\": 1}'"
    )
    assert rebuild_snapshots(snapshots, store, [Account], batch_size=batch_size) == 2
    frame = snapshots.frame()
    assert frame["stream_id"].tolist() == ["a1", "a2"]
    for account_id, taken_at in zip(frame["stream_id"], frame["updated_at"], strict=True):
        replayed, stream = Account(account_id), store.load_stream("bank.Account", account_id)
        for event in stream:
            replayed.load_event(event)
        version, name, data = snapshots.read("bank.Account", account_id)
        assert (version, name) == (replayed.version, "bank.AccountV1")
        assert data == registry.serialize(name, replayed.to_snapshot())
        assert pd.Timestamp(taken_at) == stream[-1].occurred_at
        loaded = AggregateRepository(Account, snapshots).load(account_id)
        assert (loaded.version, loaded.to_snapshot()) == (replayed.version, replayed.to_snapshot())
    assert snapshots.read("bank.Account", "a3") is None
    with pytest.raises(ValueError, match=r"^batch_size must be at least 1$"):
        rebuild_snapshots(snapshots, store, [Account], batch_size=0)
    assert snapshots.frame()["stream_id"].tolist() == ["a1", "a2"]


def test_a_rebuild_that_meets_a_bad_event_writes_nothing(backend):
    registry = bank_registry()
    store = backend.event_store(registry)
    accounts_of_three_lengths(store)
    snapshots = backend.snapshots(registry)(store)
    snapshots.write(account_with_events("a1", 2))
    before = snapshots.read("bank.Account", "a1")
    backend.database.execute(
        "UPDATE bank.events SET event_data = '{' WHERE stream_id = 'a2' AND stream_version = 2"
    )
    with pytest.raises(CorruptEventError, match="a2"):
        rebuild_snapshots(snapshots, store, [Account])
    assert snapshots.read("bank.Account", "a1") == before
    assert len(snapshots.frame()) == 1


# --- archiving ------------------------------------------------------------------------------


def test_archived_streams_leave_the_hot_table_and_stay_in_the_log(backend):
    registry = bank_registry()
    store = backend.event_store(registry)
    for account_id, deposits in (("a", 2), ("b", 0), ("c", 1)):
        store.save(account_with_events(account_id, deposits))
    before = list(backend.log(registry).events())
    assert store.archive([]) == 0
    assert backend.database.log_tables == ("bank.events",)  # no archive made for nothing
    assert backend.count("bank.events") == 6
    assert store.archive([("bank.Account", "a"), ("bank.Account", "c")]) == 5
    assert store.archive([("bank.Account", "a")]) == 0  # once is enough
    assert backend.database.log_tables == ("bank.events", "bank.events_archive")
    assert (backend.count("bank.events"), backend.count("bank.events_archive")) == (1, 5)
    log = backend.log(registry)
    assert list(log.events()) == before  # the same events, in position order
    assert (log.head(), log.count()) == (6, 6)
    assert log.load_stream("bank.Account", "a") == [e for e in before if e.aggregate_id == "a"]
    assert store.load_stream("bank.Account", "a") == []  # a load reads the hot table only
    assert store.stream_version("bank.Account", "a") == 0
    assert [e.aggregate_version for e in store.load_stream("bank.Account", "b")] == [1]
    assert [e.position for e in store.save(account_with_events("d", 0))] == [7]


def test_a_copy_loaded_before_its_stream_was_archived_cannot_save_into_the_hot_table(backend):
    store = backend.event_store(bank_registry())
    account = account_with_events("a", 2)
    store.save(account)
    account.commit_events()  # as a repository does: the copy is at the stream's head, 3
    assert store.archive([("bank.Account", "a")]) == 3
    account.deposit(Decimal("5"))
    with pytest.raises(ConcurrencyError) as caught:
        store.save(account)
    assert (caught.value.expected, caught.value.actual) == (3, 0)
    assert (backend.count("bank.events"), backend.count("bank.events_archive")) == (0, 3)


def test_a_stream_key_of_the_wrong_length_is_refused_and_nothing_moves(backend):
    store = backend.event_store(bank_registry())
    store.save(account_with_events("a", 1))
    store.save(account_with_events("b", 1))
    with pytest.raises(ValueError):
        store.archive([("bank.Account", "a", "extra"), ("bank.Account", "b")])
    assert backend.count("bank.events") == 4
    assert backend.database.log_tables == ("bank.events",)
