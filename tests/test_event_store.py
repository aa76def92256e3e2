"""The DuckDB event store: appending, versions, conflicts, reading streams and the log."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from mallbots.es import (
    ConcurrencyError,
    Database,
    DuplicateEventError,
    EventLog,
    EventStore,
)
from mallbots.es.event_rows import StreamAppend
from tests.es_support import Account, Bank, MoneyDeposited, bank_registry


def account_with_events(account_id: str, deposits: int) -> Account:
    account = Account(account_id)
    account.open("Ada")
    for _ in range(deposits):
        account.deposit(Decimal("1.25"))
    return account


def rows_in(db: Database, table: str = "bank.events") -> int:
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_the_table_follows_the_book_plus_a_global_position(db):
    EventStore(db, bank_registry(), "bank.events")
    columns = [row[0] for row in db.execute("DESCRIBE bank.events").fetchall()]
    assert columns == [
        "position",
        "stream_id",
        "stream_name",
        "stream_version",
        "event_id",
        "event_name",
        "event_data",
        "metadata",
        "occurred_at",
    ]


def test_appended_events_load_back_equal_with_positions(db):
    store = EventStore(db, bank_registry(), "bank.events")
    account = account_with_events("a1", 3)
    stored = store.save(account)
    assert [e.position for e in stored] == [1, 2, 3, 4]
    loaded = store.load_stream("bank.Account", "a1")
    assert loaded == stored


def test_reading_a_stream_from_a_version(db):
    store = EventStore(db, bank_registry(), "bank.events")
    store.save(account_with_events("a1", 5))
    assert [e.aggregate_version for e in store.load_stream("bank.Account", "a1", 4)] == [5, 6]
    window = store.load_stream("bank.Account", "a1", after_version=1, to_version=3)
    assert [e.aggregate_version for e in window] == [2, 3]


def test_a_stale_expected_version_is_a_conflict_that_writes_nothing(db):
    store = EventStore(db, bank_registry(), "bank.events")
    store.save(account_with_events("a1", 1))
    again = account_with_events("a1", 2)  # thinks the stream is empty
    with pytest.raises(ConcurrencyError) as caught:
        store.save(again)
    error = caught.value
    assert (error.stream_name, error.stream_id, error.expected, error.actual) == (
        "bank.Account",
        "a1",
        0,
        2,
    )
    assert "bank.Account" in str(error) and "expected version 0" in str(error)
    assert rows_in(db) == 2


def test_an_expected_version_ahead_of_the_stream_is_a_conflict_too(db):
    store = EventStore(db, bank_registry(), "bank.events")
    store.save(account_with_events("a1", 1))
    fresh = EventStore(db, bank_registry(), "bank.events")  # no cached head
    future = Account("a1")
    future.load_event(store.load_stream("bank.Account", "a1")[0]._replace(aggregate_version=5))
    future.deposit(Decimal("1"))
    with pytest.raises(ConcurrencyError) as caught:
        fresh.save(future)
    assert (caught.value.expected, caught.value.actual) == (5, 2)


def test_a_duplicate_event_id_is_refused_and_nothing_is_written(db):
    store = EventStore(db, bank_registry(), "bank.events")
    first = account_with_events("a1", 0)
    store.save(first)
    copy = Account("a2")
    copy.open("Grace")
    copy.deposit(Decimal("2"))
    reused = [copy.events[0]._replace(id=first.events[0].id), copy.events[1]]
    with pytest.raises(DuplicateEventError) as caught:
        store.append("bank.Account", "a2", 0, reused)
    assert first.events[0].id in str(caught.value)
    assert rows_in(db) == 1
    assert store.load_stream("bank.Account", "a2") == []
    assert db.last_position == 1  # the refused save took no positions


@pytest.mark.parametrize("how", ["append", "append_many"])
def test_an_event_id_reused_within_one_transaction_is_named_and_nothing_is_written(db, how):
    # The id is only in the transaction's own rows, which a fresh cursor cannot see:
    # DuckDB's refusal names it, and the error says which one it was.
    store = EventStore(db, bank_registry(), "bank.events")
    first = account_with_events("a1", 0)
    copy = Account("a2")
    copy.open("Grace")
    reused = [copy.events[0]._replace(id=first.events[0].id)]
    refused = pytest.raises(DuplicateEventError, match=first.events[0].id)
    with refused as caught, db.transaction():
        store.append("bank.Account", "a1", 0, first.events)
        if how == "append":
            store.append("bank.Account", "a2", 0, reused)
        else:
            store.append_many([StreamAppend("bank.Account", "a2", 0, reused)])
    assert caught.value.event_ids == [first.events[0].id]
    assert rows_in(db) == 0


def test_a_save_of_many_events_is_all_or_nothing(db):
    store = EventStore(db, bank_registry(), "bank.events")
    account = account_with_events("a1", 4)
    events = list(account.events)
    events[3] = events[3]._replace(id=events[0].id)  # the fourth repeats the first's id
    with pytest.raises(DuplicateEventError):
        store.append("bank.Account", "a1", 0, events)
    assert rows_in(db) == 0


def test_events_must_belong_to_the_stream_and_follow_its_version(db):
    store = EventStore(db, bank_registry(), "bank.events")
    account = account_with_events("a1", 1)
    with pytest.raises(ValueError, match="belongs to"):
        store.append("bank.Account", "a2", 0, account.events)
    with pytest.raises(ValueError, match="version"):
        store.append("bank.Account", "a1", 3, account.events)


def test_positions_are_global_across_event_tables_and_survive_reopening(tmp_path):
    path = tmp_path / "two.duckdb"
    db = Database.open(path)
    bank = EventStore(db, bank_registry(), "bank.events")
    other = EventStore(db, bank_registry(), "branch.events")
    bank.save(account_with_events("a1", 1))
    other.save(account_with_events("b1", 1))
    bank.save(account_with_events("a2", 0))
    db.close()

    db = Database.open(path)
    bank = EventStore(db, bank_registry(), "bank.events")
    other = EventStore(db, bank_registry(), "branch.events")
    stored = other.save(account_with_events("b2", 0))
    assert stored[0].position == 6
    log = EventLog(db, bank_registry())
    assert [(e.aggregate_id, e.position) for e in log.events()] == [
        ("a1", 1),
        ("a1", 2),
        ("b1", 3),
        ("b1", 4),
        ("a2", 5),
        ("b2", 6),
    ]
    db.close()


def test_a_reopened_store_still_detects_conflicts(tmp_path):
    path = tmp_path / "reopen.duckdb"
    with Database.open(path) as db:
        EventStore(db, bank_registry(), "bank.events").save(account_with_events("a1", 2))
    with Database.open(path) as db:
        store = EventStore(db, bank_registry(), "bank.events")
        with pytest.raises(ConcurrencyError):
            store.save(account_with_events("a1", 0))


def test_the_log_reads_in_batches_from_a_position(bank):
    for n in range(7):
        bank.open_account(f"a{n}")
    log = EventLog(bank.database, bank.registry)
    batches = list(log.batches(after_position=2, batch_size=2))
    assert [[e.position for e in batch] for batch in batches] == [[3, 4], [5, 6], [7]]
    assert log.head() == 7 and log.count() == 7


def test_streams_and_the_log_as_dataframes(bank):
    account = bank.open_account("a1")
    account.deposit(Decimal("3.50"))
    bank.accounts.save(account)
    stream = bank.events.stream_frame("bank.Account", "a1")
    assert list(stream["event_name"]) == ["bank.AccountOpened", "bank.MoneyDeposited"]
    assert list(stream["stream_version"]) == [1, 2]
    log = bank.events.log_frame()
    assert list(log["position"]) == [1, 2]
    assert log.loc[1, "event_data"] == '{"amount":"3.50"}'
    assert str(log["occurred_at"].dtype).startswith("datetime64")


def test_in_memory_databases_are_private():
    one, two = Database.memory(), Database.memory()
    EventStore(one, bank_registry(), "bank.events").save(account_with_events("a1", 0))
    assert rows_in(one) == 1
    EventStore(two, bank_registry(), "bank.events")
    assert rows_in(two) == 0


def test_saved_events_reach_handlers_after_commit_with_positions(db):
    bank = Bank(db)
    seen_counts = []
    bank.dispatcher.subscribe(
        lambda event: seen_counts.append(rows_in(db)), names=["bank.MoneyDeposited"]
    )
    account = bank.open_account("a1")
    account.deposit(Decimal("1"))
    bank.accounts.save(account)
    assert seen_counts == [2]  # the handler saw the event already in the table
    assert [e.position for e in bank.published] == [1, 2]


# --- appending to many streams at once ---------------------------------------------------------


def pending(account: Account) -> StreamAppend:
    return StreamAppend(account.NAME, account.id, account.version, account.events)


def test_append_many_writes_every_stream_in_one_go_with_positions_in_order(db):
    store = EventStore(db, bank_registry(), "bank.events")
    a, b, c = (account_with_events(n, d) for n, d in (("a", 2), ("b", 1), ("c", 0)))
    assert store.append_many([pending(a), pending(b), pending(c)]) == 6
    assert [e.position for e in store.load_stream("bank.Account", "a")] == [1, 2, 3]
    assert [e.position for e in store.load_stream("bank.Account", "b")] == [4, 5]
    assert [e.position for e in store.load_stream("bank.Account", "c")] == [6]
    a.commit_events()
    a.deposit(Decimal("1"))  # a stream already stored continues from its version
    store.append_many([pending(a)])
    assert store.stream_version("bank.Account", "a") == 4


def test_a_stream_may_appear_twice_if_the_second_append_continues_the_first(db):
    store = EventStore(db, bank_registry(), "bank.events")
    account = account_with_events("a", 1)
    first = pending(account)
    account.commit_events()
    account.deposit(Decimal("2"))
    assert store.append_many([first, pending(account)]) == 3
    assert store.stream_version("bank.Account", "a") == 3


def test_a_conflict_in_any_stream_writes_nothing(db):
    store = EventStore(db, bank_registry(), "bank.events")
    store.save(account_with_events("b", 0))
    stale = account_with_events("b", 1)  # a second "b" at version 0: b is already at 1
    with pytest.raises(ConcurrencyError):
        store.append_many([pending(account_with_events("a", 2)), pending(stale)])
    assert rows_in(db) == 1
    assert db.last_position == 1
    assert store.append_many([pending(account_with_events("c", 0))]) == 1
    assert [e.position for e in store.load_stream("bank.Account", "c")] == [2]


def test_a_conflict_missed_by_the_head_cache_is_caught_by_the_table(db):
    store = EventStore(db, bank_registry(), "bank.events")
    store.save(account_with_events("a", 1))
    EventStore(db, bank_registry(), "bank.events").forget_heads()
    store.forget_heads()
    late = Account("a")
    late.load_event(store.load_stream("bank.Account", "a")[0])  # believes a is at 1, it is at 2
    late.deposit(Decimal("1"))
    with pytest.raises(ConcurrencyError, match="expected version 1"):
        store.append_many([pending(late)])
    assert rows_in(db) == 2


def test_a_repeated_event_id_writes_nothing_and_is_named(db):
    store = EventStore(db, bank_registry(), "bank.events")
    store.save(account_with_events("a", 0))
    (taken,) = db.execute("SELECT event_id::VARCHAR FROM bank.events").fetchone()
    b = account_with_events("b", 0)
    clash = StreamAppend("bank.Account", "b", 0, [b.events[0]._replace(id=taken)])
    with pytest.raises(DuplicateEventError, match=taken):
        store.append_many([pending(account_with_events("c", 1)), clash])
    assert rows_in(db) == 1


def test_positions_given_by_the_caller_interleave_two_tables(db):
    first, second = (EventStore(db, bank_registry(), f"bank{i}.events") for i in (1, 2))
    a, b = account_with_events("a", 1), account_with_events("b", 1)
    with db.transaction():
        start = db.log_book.claim_positions(4)
        first.append_many([pending(a)], positions=[start, start + 2])
        second.append_many([pending(b)], positions=[start + 1, start + 3])
    log = EventLog(db, bank_registry())
    assert [(e.aggregate_id, e.position) for e in log.events()] == [
        ("a", 1),
        ("b", 2),
        ("a", 3),
        ("b", 4),
    ]


def test_an_empty_append_many_writes_nothing(db):
    store = EventStore(db, bank_registry(), "bank.events")
    assert store.append_many([]) == 0
    assert db.last_position == 0


@pytest.mark.parametrize("bad_id", ["not-a-uuid", None, 42])
def test_an_event_duckdb_cannot_store_is_refused_clearly_and_takes_no_position(db, bad_id):
    store = EventStore(db, bank_registry(), "bank.events")
    store.save(account_with_events("a1", 0))
    account = account_with_events("a2", 1)
    events = [account.events[0], account.events[1]._replace(id=bad_id)]
    with pytest.raises(ValueError, match="event id") as caught:
        store.append("bank.Account", "a2", 0, events)
    assert "bank.Account 'a2'" in str(caught.value)
    assert rows_in(db) == 1
    assert db.last_position == 1  # the refused save gave its positions back
    assert [e.position for e in store.save(account_with_events("a3", 0))] == [2]


@pytest.mark.parametrize("bad_id", ["not-a-uuid", 42])
def test_a_batch_with_an_event_duckdb_cannot_store_is_refused_clearly(db, bad_id):
    store = EventStore(db, bank_registry(), "bank.events")
    good, bad = account_with_events("a1", 1), account_with_events("a2", 1)
    events = [bad.events[0], bad.events[1]._replace(id=bad_id)]
    appends = [StreamAppend("bank.Account", "a1", 0, good.events)]
    appends.append(StreamAppend("bank.Account", "a2", 0, events))
    with pytest.raises(ValueError, match=f"id {bad_id!r}, which is not a UUID; nothing was"):
        store.append_many(appends)
    assert rows_in(db) == 0
    assert db.last_position == 0
    assert store.append_many(appends[:1]) == 2  # the heads were not taken for written


def test_a_copy_loaded_before_its_stream_was_archived_cannot_save_into_the_hot_table(db):
    store = EventStore(db, bank_registry(), "bank.events")
    account = account_with_events("a", 2)
    store.save(account)
    account.commit_events()  # as a repository does: the copy is at the stream's head, 3
    assert store.archive([("bank.Account", "a")]) == 3
    account.deposit(Decimal("5"))
    with pytest.raises(ConcurrencyError, match="expected version 3"):
        store.save(account)
    assert rows_in(db) == 0
    assert rows_in(db, "bank.events_archive") == 3


def test_a_stream_archived_through_another_store_is_not_saved_into_from_a_stale_copy(db):
    """Two stores on one table (two shops on one database): the second's cached head
    must not outlive the events the first moved away."""
    first, second = Bank(db, every=None), Bank(db, every=None, seed=8)
    first.open_account("a")
    stale = second.accounts.load("a")  # the second store caches the head, 1
    assert first.events.archive([("bank.Account", "a")]) == 1
    stale.deposit(Decimal("5"))
    with pytest.raises(ConcurrencyError, match="expected version 1"):
        second.accounts.save(stale)
    assert rows_in(db) == 0
    assert rows_in(db, "bank.events_archive") == 1


def test_two_copies_saved_in_one_transaction_conflict_as_they_would_in_two(db):
    bank = Bank(db, every=None)
    bank.open_account("a")
    with pytest.raises(ConcurrencyError, match="expected version 1"), db.transaction():
        first, second = bank.accounts.load("a"), bank.accounts.load("a")
        first.deposit(Decimal("1"))
        bank.accounts.save(first)
        second.deposit(Decimal("2"))
        bank.accounts.save(second)
    assert bank.events.stream_version("bank.Account", "a") == 1  # all rolled back


def test_two_batches_in_one_transaction_conflict_as_they_would_in_two(db):
    store = EventStore(db, bank_registry(), "bank.events")
    store.save(account_with_events("a", 0))
    copies = [Account("a"), Account("a")]
    for copy in copies:  # both at the stored version 1, each with a deposit of its own
        store.load(copy)
        copy.deposit(Decimal("1"))
    with pytest.raises(ConcurrencyError, match="expected version 1"), db.transaction():
        for copy in copies:
            store.append_many([StreamAppend("bank.Account", "a", copy.version, copy.events)])
    assert store.stream_version("bank.Account", "a") == 1


def test_a_load_tells_the_save_after_it_where_the_stream_stands(db):
    store = EventStore(db, bank_registry(), "bank.events")
    store.save(account_with_events("a", 2))
    store.forget_heads()  # as in a new process: no head known
    account = Account("a")
    store.load(account)
    other = Account("a")
    EventStore(db, bank_registry(), "bank.events").load(other)
    other.deposit(Decimal("1"))
    EventStore(db, bank_registry(), "bank.events").save(other)  # another store moves on
    account.deposit(Decimal("5"))  # the head this load remembered is now behind
    with pytest.raises(ConcurrencyError, match="3, but the stream is at version 4"):
        store.save(account)  # the primary key refuses what the head let through
    fresh = Account("a")
    store.load(fresh)
    fresh.deposit(Decimal("5"))
    store.save(fresh)
    assert [e.aggregate_version for e in store.load_stream("bank.Account", "a")] == [1, 2, 3, 4, 5]


def test_a_head_read_inside_a_rolled_back_transaction_is_forgotten(db):
    store = EventStore(db, bank_registry(), "bank.events")
    store.save(account_with_events("a", 0))
    other = EventStore(db, bank_registry(), "bank.events")
    with pytest.raises(RuntimeError), db.transaction():
        moved = Account("a")
        other.load(moved)
        moved.deposit(Decimal("1"))
        other.save(moved)  # another store on the table: its rollback is its own
        seen = Account("a")
        store.load(seen)  # reads the transaction's own event: version 2
        raise RuntimeError("the command changed its mind")
    assert seen.version == 2
    seen.deposit(Decimal("1"))  # would land at 3, after a version 2 that never was
    with pytest.raises(ConcurrencyError, match="2, but the stream is at version 1"):
        store.save(seen)
    assert [e.aggregate_version for e in store.load_stream("bank.Account", "a")] == [1]


def test_a_head_read_while_its_stream_was_archived_is_not_kept(db):
    class ArchivedMidLoad(EventStore):
        """Archives the stream between a load's read and its end, as another thread could,
        then saves another stream (which brings the store's cache up to the removal)."""

        def load_stream(self, *args, **kwargs):
            events = super().load_stream(*args, **kwargs)
            self.archive([("bank.Account", "a")])
            self.save(account_with_events("b", 0))
            return events

    store = ArchivedMidLoad(db, bank_registry(), "bank.events")
    store.save(account_with_events("a", 1))
    late = Account("a")
    store.load(late)  # read at version 2; the stream left the hot table meanwhile
    late.deposit(Decimal("1"))
    with pytest.raises(ConcurrencyError, match="2, but the stream is at version 0"):
        store.save(late)
    assert rows_in(db) == 1  # b's


def conflict_of(caught: pytest.ExceptionInfo[ConcurrencyError]) -> tuple:
    error = caught.value
    return error.stream_name, error.stream_id, error.expected, error.actual


def test_a_batch_conflict_seen_in_the_head_cache_names_the_stream_and_both_versions(db):
    store = EventStore(db, bank_registry(), "bank.events")
    store.save(account_with_events("b", 2))  # b is at 3, and the store knows it
    stale = account_with_events("b", 0)
    with pytest.raises(ConcurrencyError) as caught:
        store.append_many([pending(account_with_events("a", 1)), pending(stale)])
    assert conflict_of(caught) == ("bank.Account", "b", 0, 3)


def test_a_batch_conflict_only_the_table_sees_names_the_stream_and_both_versions(db):
    EventStore(db, bank_registry(), "bank.events").save(account_with_events("b", 2))
    fresh = EventStore(db, bank_registry(), "bank.events")  # knows no heads
    behind = Account("b")
    behind.load_event(fresh.load_stream("bank.Account", "b")[0])
    fresh.forget_heads()
    behind.deposit(Decimal("1"))  # believes b is at 1; it is at 3
    with pytest.raises(ConcurrencyError) as caught:
        fresh.append_many([pending(account_with_events("a", 0)), pending(behind)])
    assert conflict_of(caught) == ("bank.Account", "b", 1, 3)


def test_a_conflict_the_primary_key_refuses_names_the_stream_and_both_versions(db):
    bank = Bank(db, every=None)
    bank.open_account("a")
    with pytest.raises(ConcurrencyError) as caught, db.transaction():
        first, second = bank.accounts.load("a"), bank.accounts.load("a")
        first.deposit(Decimal("1"))
        bank.accounts.save(first)
        second.deposit(Decimal("2"))
        bank.accounts.save(second)
    assert conflict_of(caught) == ("bank.Account", "a", 1, 2)


@pytest.mark.parametrize("version", [True, "1", 1.0, None])
def test_an_expected_version_must_be_an_int(db, version):
    store = EventStore(db, bank_registry(), "bank.events")
    account = account_with_events("a", 0)
    with pytest.raises(TypeError, match=r"an expected version is an int, not "):
        store.append("bank.Account", "a", version, account.events)


def test_an_expected_version_cannot_be_negative(db):
    store = EventStore(db, bank_registry(), "bank.events")
    account = account_with_events("a", 0)
    with pytest.raises(ValueError, match="an expected version cannot be negative: -1"):
        store.append("bank.Account", "a", -1, account.events)


def test_an_events_metadata_is_stored_and_read_back_as_recorded(bank):
    account = bank.accounts.new("a1")
    account.open("Ada")
    account.record("bank.MoneyDeposited", MoneyDeposited(Decimal("2")), {"user": "ada", "n": 1})
    bank.accounts.save(account)
    stream = bank.events.load_stream("bank.Account", "a1")
    assert [event.metadata for event in stream] == [{}, {"user": "ada", "n": 1}]


def test_metadata_json_cannot_hold_is_refused_naming_the_event_and_version(bank):
    account = bank.accounts.new("a1")
    account.open("Ada")
    account.record("bank.MoneyDeposited", MoneyDeposited(Decimal("2")), {"tags": {"a", "b"}})
    with pytest.raises(
        ValueError, match=r"^metadata of event bank\.MoneyDeposited \(version 2\) cannot be stored"
    ):
        bank.accounts.save(account)


def test_a_stream_is_named_by_text_and_an_event_time_must_say_its_zone(db):
    store = EventStore(db, bank_registry(), "bank.events")
    account = account_with_events("a", 0)
    for name, stream_id, wrong in [("", "a", "stream name"), ("bank.Account", "", "stream id")]:
        with pytest.raises(ValueError, match=rf"^a {wrong} must be a non-empty string, not ''$"):
            store.append(name, stream_id, 0, account.events)
    with pytest.raises(ValueError, match=r"^the stream id 'a\\ud800' "):
        store.append("bank.Account", "a\ud800", 0, account.events)
    naive = account.events[0]._replace(occurred_at=datetime(2024, 1, 1))
    with pytest.raises(ValueError, match=r"^event times must be timezone-aware, not datetime"):
        store.append("bank.Account", "a", 0, [naive])


def test_after_a_hand_edit_forget_heads_makes_the_next_save_ask_the_table(bank):
    """A head remembered from a load would let a save through at a version the table
    no longer has: after the edit, forget_heads, and the save is a conflict, not a gap."""
    bank.open_account("a1")
    account = bank.accounts.load("a1")
    account.deposit(Decimal("1"))
    bank.accounts.save(account)  # the store now remembers a1 at version 2
    bank.database.execute("DELETE FROM bank.events WHERE stream_id = 'a1' AND stream_version = 2")
    bank.events.forget_heads()
    account.deposit(Decimal("2"))
    with pytest.raises(
        ConcurrencyError, match="expected version 2, but the stream is at version 1"
    ):
        bank.accounts.save(account)


def test_a_long_stream_loads_after_any_version_whichever_side_skips_the_older_events(db):
    """After fewer than 256 events the store drops the older ones itself; after more, DuckDB
    filters them: the events returned are the same."""
    store = EventStore(db, bank_registry(), "bank.events")
    store.save(account_with_events("a", 259))  # versions 1 to 260
    for after in (0, 255, 256, 257, 259, 260):
        stream = store.load_stream("bank.Account", "a", after_version=after)
        assert [event.aggregate_version for event in stream] == list(range(after + 1, 261))
    with pytest.raises(ValueError, match=r"^after_version cannot be negative: -1$"):
        store.load_stream("bank.Account", "a", after_version=-1)


def test_a_stream_and_the_table_show_as_frames_archived_events_too(db):
    store = EventStore(db, bank_registry(), "bank.events")
    store.append_many([pending(account_with_events("a", 1)), pending(account_with_events("b", 2))])
    assert store.log_frame(after_position=1, limit=2)["position"].tolist() == [2, 3]
    store.archive([("bank.Account", "a")])
    frame = store.stream_frame("bank.Account", "a")
    assert frame["stream_version"].tolist() == [1, 2]
    assert frame["event_name"].tolist() == ["bank.AccountOpened", "bank.MoneyDeposited"]


def test_frames_of_a_store_show_only_its_own_table_on_a_file_shared_with_another(db):
    """Two event tables on one file (two modules of a shop): the same stream in each."""
    bank, other = (EventStore(db, bank_registry(), table) for table in ("bank.events", "events"))
    bank.save(account_with_events("a", 1))
    other.save(account_with_events("a", 2))
    assert bank.log_frame()["position"].tolist() == [1, 2]
    assert other.log_frame()["position"].tolist() == [3, 4, 5]
    assert len(bank.stream_frame("bank.Account", "a")) == 2
    assert len(other.stream_frame("bank.Account", "a")) == 3


@pytest.mark.parametrize("table", ["bank.events", "events"])
def test_archived_events_stay_in_the_log_of_a_reopened_file(tmp_path, table):
    """A new process finds the archive (in a schema or in ``main``) and reads it into the log."""
    path = tmp_path / "archived.duckdb"
    with Database.open(path) as database:
        store = EventStore(database, bank_registry(), table)
        store.save(account_with_events("a", 1))
        store.save(account_with_events("b", 0))
        assert store.archive([("bank.Account", "a")]) == 2
        assert store.archive([("bank.Account", "b")]) == 1  # into the archive made before
    with Database.open(path) as reopened:
        EventStore(reopened, bank_registry(), table)
        assert reopened.log_book.tables == (table, f"{table}_archive")
        events = EventLog(reopened, bank_registry()).events()
        assert [event.position for event in events] == [1, 2, 3]


@pytest.mark.parametrize("how", ["append", "append_many"])
def test_a_conflict_only_the_primary_key_sees_names_the_stream_and_both_versions(db, how):
    """Two stores on one table: the first's cached head is passed by the second's save,
    so the first's save gets past its cache and the primary key refuses it."""
    first, second = (EventStore(db, bank_registry(), "bank.events") for _ in range(2))
    first.save(account_with_events("a", 0))  # the first store knows a is at 1
    second.append("bank.Account", "a", 1, account_with_events("a", 1).events[1:])
    events = account_with_events("a", 1).events[1:]  # at version 2, as the second's
    with pytest.raises(ConcurrencyError) as caught:
        if how == "append":
            first.append("bank.Account", "a", 1, events)
        else:
            first.append_many([StreamAppend("bank.Account", "a", 1, events)])
    assert conflict_of(caught) == ("bank.Account", "a", 1, 2)
    assert rows_in(db) == 2


@pytest.mark.parametrize("how", ["append", "append_many"])
def test_a_conflict_within_one_transaction_is_a_conflict_not_a_bare_key_error(db, how):
    """As above, but both saves in one transaction: the second store's row is seen by
    no other cursor, so only DuckDB's refusal can tell what was taken. It is still a
    ConcurrencyError naming the stream and the version taken, and nothing is written."""
    first, second = (EventStore(db, bank_registry(), "bank.events") for _ in range(2))
    first.save(account_with_events("a", 0))  # the first store knows a is at 1
    events = account_with_events("a", 1).events[1:]  # at version 2
    with pytest.raises(ConcurrencyError) as caught, db.transaction():
        second.append("bank.Account", "a", 1, account_with_events("a", 1).events[1:])
        if how == "append":
            first.append("bank.Account", "a", 1, events)
        else:
            first.append_many([StreamAppend("bank.Account", "a", 1, events)])
    assert conflict_of(caught) == ("bank.Account", "a", 1, 2)
    assert rows_in(db) == 1  # the transaction rolled back: only the first save stays


@pytest.mark.parametrize("how", ["append", "append_many"])
def test_a_refused_save_names_exactly_the_ids_taken_and_the_ids_repeated(db, how):
    store = EventStore(db, bank_registry(), "bank.events")
    stored = account_with_events("a", 0)
    store.save(stored)
    taken = stored.events[0].id
    events = list(account_with_events("b", 3).events)
    repeated = events[0].id
    events[1] = events[1]._replace(id=taken)
    events[3] = events[3]._replace(id=repeated)
    with pytest.raises(DuplicateEventError) as caught:
        if how == "append":
            store.append("bank.Account", "b", 0, events)
        else:
            store.append_many([StreamAppend("bank.Account", "b", 0, events)])
    assert sorted(caught.value.event_ids) == sorted([taken, repeated])
    assert rows_in(db) == 1


def test_positions_must_be_one_per_event(db):
    store = EventStore(db, bank_registry(), "bank.events")
    with pytest.raises(ValueError, match=r"^2 positions for 3 events$"):
        store.append_many([pending(account_with_events("a", 2))], positions=[1, 2])
    assert rows_in(db) == 0


def test_a_store_named_no_table_keeps_its_events_in_events(db):
    EventStore(db, bank_registry()).save(account_with_events("a", 0))
    assert db.log_book.tables == ("events",)
    assert rows_in(db, "main.events") == 1


def test_every_archive_empties_the_cache_of_heads_not_only_the_first(db):
    store = EventStore(db, bank_registry(), "bank.events")
    store.save(account_with_events("a", 0))
    store.save(account_with_events("b", 0))
    store.archive([("bank.Account", "a")])
    store.save(account_with_events("c", 0))  # the store's cache has seen the first archive
    late = Account("b")
    store.load(late)  # after the first archive: the head of b, 1, is cached
    assert store.archive([("bank.Account", "b")]) == 1
    late.deposit(Decimal("1"))
    with pytest.raises(ConcurrencyError) as caught:
        store.save(late)
    assert conflict_of(caught) == ("bank.Account", "b", 1, 0)
    assert rows_in(db) == 1  # c's
