"""Snapshots: strategies, the same transaction as the events, loads that replay less."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from mallbots.es import (
    AggregateRepository,
    ConcurrencyError,
    Database,
    EventStore,
    EveryNEvents,
    PayloadError,
    SnapshotStore,
    SteppingClock,
    never,
    snapshots,
    with_middleware,
)
from mallbots.es.snapshot_rebuild import rebuild_snapshots
from tests.es_support import Account, AccountV1, Bank, bank_registry


def deposit(bank: Bank, account_id: str, times: int) -> Account:
    account = bank.accounts.load(account_id)
    for _ in range(times):
        account.deposit(Decimal("1"))
    bank.accounts.save(account)
    return account


def snapshot_row(bank: Bank, account_id: str):
    return bank.database.execute(
        "SELECT stream_version, snapshot_name, snapshot_data FROM bank.snapshots "
        "WHERE stream_id = $1",
        [account_id],
    ).fetchone()


class Counting(EventStore):
    """An event store that counts the events it replays."""

    replayed = 0

    def load_stream(self, *args, **kwargs):
        events = super().load_stream(*args, **kwargs)
        Counting.replayed += len(events)
        return events


@pytest.mark.parametrize(
    ("version", "pending", "taken"),
    [(0, 2, False), (0, 3, True), (2, 3, True), (3, 5, False), (5, 7, True), (0, 9, True)],
)
def test_every_n_events_snapshots_when_a_save_crosses_a_multiple(version, pending, taken):
    account = Account("a1")
    account._version = version
    account._pending = [None] * (pending - version)
    assert EveryNEvents(3)(account) is taken


def test_a_snapshot_is_written_at_the_version_the_strategy_picks(bank):
    bank.open_account("a1")
    assert snapshot_row(bank, "a1") is None
    deposit(bank, "a1", 2)
    version, name, data = snapshot_row(bank, "a1")
    assert (version, name) == (3, "bank.AccountV1")
    assert '"balance":"2"' in data
    deposit(bank, "a1", 4)
    assert snapshot_row(bank, "a1")[0] == 7


def test_loading_restores_the_snapshot_and_replays_only_newer_events(db):
    bank = Bank(db, every=10)
    bank.open_account("a1")
    deposit(bank, "a1", 11)  # snapshot at 12
    deposit(bank, "a1", 2)  # events 13, 14 after it
    counting = Counting(db, bank.registry, "bank.events")
    store = SnapshotStore(counting, db, bank.registry, "bank.snapshots", never)
    Counting.replayed = 0
    loaded = AggregateRepository(Account, store).load("a1")
    assert Counting.replayed == 2
    assert loaded.version == 14
    assert loaded.balance == Decimal("13")
    assert loaded.state() == AggregateRepository(Account, bank.events).load("a1").state()


def test_the_snapshot_is_written_in_the_events_transaction(db):
    bank = Bank(db, every=2)
    account = bank.accounts.new("a1")
    account.open("Ada")
    account.deposit(Decimal("1"))
    account.to_snapshot = lambda: AccountV1("Ada", 1.0, False, ())  # a float: not money
    with pytest.raises(PayloadError):
        bank.accounts.save(account)
    assert db.execute("SELECT count(*) FROM bank.events").fetchone()[0] == 0
    assert db.last_position == 0
    assert account.version == 0 and len(account.events) == 2


def test_an_unknown_snapshot_is_ignored_and_the_events_are_replayed(bank):
    bank.open_account("a1")
    deposit(bank, "a1", 2)
    bank.database.execute("UPDATE bank.snapshots SET snapshot_name = 'bank.AccountV0'")
    loaded = bank.accounts.load("a1")
    assert loaded.version == 3 and loaded.balance == Decimal("2")


def test_a_snapshot_whose_payload_no_longer_fits_is_ignored(bank):
    bank.open_account("a1")
    deposit(bank, "a1", 2)
    bank.database.execute("UPDATE bank.snapshots SET snapshot_data = '{\"owner\": 1}'")
    assert bank.accounts.load("a1").balance == Decimal("2")


def test_any_callable_is_a_strategy(db):
    bank = Bank(db, every=None)
    picky = SnapshotStore(
        bank.events, db, bank.registry, "bank.snapshots", lambda a: a.pending_version == 2
    )
    repository = AggregateRepository(Account, picky)
    account = repository.new("a1")
    account.open("Ada")
    repository.save(account)
    account.deposit(Decimal("5"))
    repository.save(account)
    account.deposit(Decimal("5"))
    repository.save(account)
    assert picky.read("bank.Account", "a1")[0] == 2
    assert list(picky.frame()["stream_version"]) == [2]


def test_write_many_stores_the_same_rows_as_write_one_at_a_time(tmp_path):
    rows = {}
    for name in ("one", "many"):
        db = Database.open(tmp_path / f"{name}.duckdb")
        registry = bank_registry()
        store = SnapshotStore(EventStore(db, registry, "bank.events"), db, registry)
        accounts = [Account(i, clock=SteppingClock()) for i in ("a", "b")]
        for account in accounts:
            account.open("Ada")
            account.deposit(Decimal("2.50"))
        if name == "one":
            for account in accounts:
                store.write(account)
        else:
            store.write_many([store.capture(account) for account in accounts])
        rows[name] = db.execute("SELECT * FROM snapshots ORDER BY ALL").fetchall()
        db.close()
    assert rows["one"] == rows["many"] and len(rows["one"]) == 2


def test_snapshots_of_streams_that_share_an_id_stay_apart(db):
    class Branch(Account):
        NAME = "bank.Branch"

    bank = Bank(db, every=2)
    branches = AggregateRepository(
        Branch, bank.store, clock=bank.accounts.clock, ids=bank.accounts.ids
    )
    account, branch = bank.accounts.new("same"), branches.new("same")
    account.open("Ada")
    branch.open("HQ")
    for _ in range(3):
        account.deposit(Decimal("1"))
        branch.deposit(Decimal("10"))
    bank.accounts.save(account)
    branches.save(branch)
    assert bank.store.inner.read("bank.Account", "same")[0] == 4
    assert '"balance":"30"' in bank.store.inner.read("bank.Branch", "same")[2]
    assert bank.accounts.load("same").balance == Decimal("3")
    assert branches.load("same").balance == Decimal("30")
    assert bank.store.inner.read("bank.Nothing", "same") is None

    # later snapshots replace each stream's own row, and only its own
    for deposits, repository, amount in ((2, bank.accounts, "1"), (4, branches, "10")):
        aggregate = repository.load("same")
        for _ in range(deposits):
            aggregate.deposit(Decimal(amount))
        repository.save(aggregate)
    stored = db.execute("SELECT stream_name, stream_version FROM bank.snapshots ORDER BY ALL")
    assert stored.fetchall() == [("bank.Account", 6), ("bank.Branch", 8)]
    assert bank.accounts.load("same").balance == Decimal("5")
    assert branches.load("same").balance == Decimal("70")


def test_a_snapshot_is_inserted_once_then_updated_in_place(db):
    bank = Bank(db, every=2)
    bank.open_account("solo")  # version 1: no snapshot yet
    bank.open_account("other")
    for round_ in range(1, 4):
        account = bank.accounts.load("solo")
        account.deposit(Decimal(round_))
        account.deposit(Decimal(round_))
        bank.accounts.save(account)
        rows = db.execute(
            "SELECT stream_id, stream_version FROM bank.snapshots ORDER BY ALL"
        ).fetchall()
        assert rows == [("solo", 1 + 2 * round_)]
    assert bank.accounts.load("solo").balance == Decimal("12")


def test_a_writer_refused_as_a_conflict_leaves_no_snapshot_of_its_state(db):
    """The snapshot goes in the events' transaction: when the events are refused, the
    snapshot of the state they would have made goes too (the fast tier's racing writers
    make identical snapshots, so this one makes them differ)."""
    bank = Bank(db, every=2)
    bank.open_account("a1")
    first, second = bank.accounts.load("a1"), bank.accounts.load("a1")
    first.deposit(Decimal("5"))
    second.deposit(Decimal("7"))
    bank.accounts.save(first)  # version 2: a snapshot with balance 5
    with pytest.raises(ConcurrencyError):
        bank.accounts.save(second)  # would snapshot balance 7 at version 2
    assert bank.accounts.load("a1").balance == Decimal("5")
    assert AggregateRepository(Account, bank.events).load("a1").balance == Decimal("5")
    (stored,) = db.execute("SELECT stream_version FROM bank.snapshots").fetchall()
    assert stored == (2,)


def test_a_snapshot_interval_of_one_is_allowed_and_zero_is_not():
    assert EveryNEvents(1).n == 1
    with pytest.raises(ValueError, match=r"^a snapshot interval must be at least 1$"):
        EveryNEvents(0)


def test_a_snapshot_store_snapshots_every_three_events_unless_told(db):
    registry = bank_registry()
    events = EventStore(db, registry, "bank.events")
    store = SnapshotStore(events, db, registry, "bank.snapshots")
    repository = AggregateRepository(Account, store)
    account = repository.new("a1")
    account.open("Ada")
    account.deposit(Decimal("1"))
    repository.save(account)  # version 2: none yet
    assert db.execute("SELECT count(*) FROM bank.snapshots").fetchone() == (0,)
    account.deposit(Decimal("1"))
    repository.save(account)
    assert db.execute("SELECT stream_version FROM bank.snapshots").fetchall() == [(3,)]


def test_unusable_snapshots_are_reported_once_naming_the_stream_and_how_to_mend_them(bank, caplog):
    for account_id in ("a1", "a2"):
        bank.open_account(account_id)
        deposit(bank, account_id, 2)
    bank.database.execute("UPDATE bank.snapshots SET snapshot_name = 'bank.AccountV0'")
    with caplog.at_level(logging.DEBUG, logger="mallbots.es.snapshots"):
        assert [bank.accounts.load(a).balance for a in ("a1", "a2")] == [2, 2]
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.startswith(
        f"the snapshot of bank.Account 'a1' in bank.snapshots ({bank.database.path}) cannot "
        "be used (bank.AccountV0 at version 3: unknown event or snapshot name 'bank.AccountV0'"
    )
    assert warning.endswith(
        "it and any other snapshot of this table that fails so are ignored, and the aggregates "
        "load from their events. Said once. To write the snapshots afresh from the events, "
        f"run: mallbots rebuild --snapshots --db {bank.database.path}"
    )
    (quiet,) = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert quiet.startswith("snapshot of bank.Account 'a2' not used: bank.AccountV0 at version 3")


@pytest.mark.parametrize(
    "wired",
    [
        lambda events, db, registry: SnapshotStore(events, db, registry),
        lambda events, db, registry: with_middleware(events, snapshots(db, registry)),
    ],
    ids=["SnapshotStore", "middleware"],
)
def test_snapshots_named_no_table_are_kept_in_one_called_snapshots(db, wired):
    registry = bank_registry()
    store = wired(EventStore(db, registry, "bank.events"), db, registry)
    repository = AggregateRepository(Account, store)
    account = repository.new("a1")
    account.open("Ada")
    account.deposit(Decimal("1"))
    account.deposit(Decimal("2"))
    repository.save(account)
    assert db.execute("SELECT stream_id, stream_version FROM snapshots").fetchall() == [("a1", 3)]


def test_in_memory_the_warning_says_so_and_names_the_shops_own_mend(caplog):
    bank = Bank(Database())  # in memory
    bank.open_account("a1")
    deposit(bank, "a1", 2)
    bank.database.execute("UPDATE bank.snapshots SET snapshot_data = '{\"owner\": 1}'")
    with caplog.at_level(logging.WARNING, logger="mallbots.es.snapshots"):
        assert bank.accounts.load("a1").balance == Decimal("2")
    (warning,) = [r.getMessage() for r in caplog.records]
    assert warning.startswith("the snapshot of bank.Account 'a1' in bank.snapshots (memory) ")
    assert warning.endswith("run: shop.rebuild_snapshots()")


def test_a_snapshot_duckdb_cannot_read_is_passed_by_and_not_written_again(bank, caplog):
    """As after a damaged storage block: loads replay the events, the warning says why,
    and saves leave the stream's snapshot alone (writing it would fail the same way)."""
    bank.open_account("a1")
    deposit(bank, "a1", 2)  # a snapshot at version 3
    db = bank.database
    db.execute("DROP INDEX bank.snapshots_by_stream")  # so that the table can be renamed
    db.execute("ALTER TABLE bank.snapshots RENAME TO snapshots_kept")
    db.execute(
        "CREATE VIEW bank.snapshots AS SELECT stream_id, stream_name, stream_version, "
        "snapshot_name, error('a damaged block')::VARCHAR AS snapshot_data, updated_at "
        "FROM bank.snapshots_kept"
    )
    with caplog.at_level(logging.WARNING, logger="mallbots.es.snapshots"):
        account = deposit(bank, "a1", 3)  # loads, then saves up to version 6
    assert (account.version, account.balance) == (6, Decimal("5"))
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "cannot be used (DuckDB could not read it: Invalid Input Error: a damaged block)" in (
        warning
    )
    db.execute("DROP VIEW bank.snapshots")
    db.execute("ALTER TABLE bank.snapshots_kept RENAME TO snapshots")
    assert snapshot_row(bank, "a1")[0] == 3
    assert bank.accounts.load("a1").balance == Decimal("5")


def test_a_loaded_aggregate_is_captured_at_its_version(bank):
    """What a rebuild of the snapshots does: no pending events, the state as loaded."""
    bank.open_account("a1")
    deposit(bank, "a1", 1)
    store = SnapshotStore(bank.events, bank.database, bank.registry, "bank.snapshots")
    snapshot = store.capture(bank.accounts.load("a1"))
    assert (snapshot.stream_id, snapshot.version, snapshot.payload.balance) == ("a1", 2, 1)


def accounts_of_three_lengths(bank: Bank) -> None:
    """a1 with 3 events, a2 with 5, a3 with 2 (below a snapshot every three)."""
    for account_id, deposits in (("a1", 2), ("a2", 4), ("a3", 1)):
        bank.open_account(account_id)
        deposit(bank, account_id, deposits)


def test_a_rebuild_by_never_writes_none_and_by_any_other_strategy_one_per_stream(db):
    bank = Bank(db, every=None)
    accounts_of_three_lengths(bank)
    bank.open_account("a4")  # one event only
    store = SnapshotStore(bank.events, db, bank.registry, "bank.snapshots", never)
    assert never(bank.accounts.load("a2")) is False
    assert rebuild_snapshots(store, bank.events, [Account]) == 0
    assert db.execute("SELECT count(*) FROM bank.snapshots").fetchone() == (0,)
    store.strategy = lambda aggregate: aggregate.pending_version % 2 == 0
    assert rebuild_snapshots(store, bank.events, [Account]) == 4
    assert store.frame()["stream_version"].tolist() == [3, 5, 2, 1]
