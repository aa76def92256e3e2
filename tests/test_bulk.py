"""The bulk writer: the same events and snapshots as repository saves, a batch at a time."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from mallbots.es import (
    ConcurrencyError,
    Database,
    EventLog,
    EventStore,
    EveryNEvents,
    SnapshotStore,
)
from mallbots.es.duckdb.bulk import BulkTarget, BulkWriter
from mallbots.es.duckdb.frames import frame_of_rows
from tests.es_support import Account, Bank, bank_registry


def story(new_account, save) -> None:
    """Two accounts, changed in turns, each change saved."""
    accounts = [new_account(i) for i in ("a", "b")]
    for account in accounts:
        account.open("Ada")
        save(account)
    for round in range(4):
        for account in accounts:
            account.deposit(Decimal(round + 1))
            if round == 2:
                account.rename("Bo")
            save(account)


def table(bank: Bank, name: str) -> list[tuple]:
    return bank.database.execute(f"SELECT * FROM bank.{name} ORDER BY ALL").fetchall()


def bulk_writer(bank: Bank, batch_size: int, background: bool = False) -> BulkWriter:
    snapshots = SnapshotStore(
        bank.events, bank.database, bank.registry, "bank.snapshots", EveryNEvents(3)
    )
    targets = {Account.NAME: BulkTarget(bank.events, snapshots)}
    return BulkWriter(bank.database, targets, batch_size, background=background)


@pytest.mark.parametrize("background", [False, True])
@pytest.mark.parametrize("batch_size", [1, 4, 1000])
def test_bulk_saves_write_what_repository_saves_write(tmp_path, batch_size, background):
    banks = [Bank(Database.open(tmp_path / f"{n}.duckdb")) for n in ("repository", "bulk")]
    story(banks[0].accounts.new, banks[0].accounts.save)
    writer = bulk_writer(banks[1], batch_size, background)
    story(banks[1].accounts.new, writer.save)
    if not background:
        assert writer.pending == 12 % batch_size  # full batches were written as they filled
    writer.close()
    assert writer.written == 12 and writer.pending == 0
    for name in ("events", "snapshots"):
        assert table(banks[0], name) == table(banks[1], name), name
    for bank in banks:
        bank.database.close()


def test_positions_follow_the_order_of_saves_across_tables(db):
    registry = bank_registry()
    stores = {name: EventStore(db, registry, f"{name}.events") for name in ("one", "two")}

    class Other(Account):
        NAME = "bank.Other"

    writer = BulkWriter(
        db, {Account.NAME: BulkTarget(stores["one"]), Other.NAME: BulkTarget(stores["two"])}
    )
    for i, kind in enumerate([Account, Other, Account]):
        account = kind(f"id{i}")
        account.open("Ada")
        writer.save(account)
    assert db.last_position == 0  # nothing is written before the batch is flushed
    writer.flush()
    log = EventLog(db, registry)
    assert [(e.aggregate_name, e.position) for e in log.events()] == [
        ("bank.Account", 1),
        ("bank.Other", 2),
        ("bank.Account", 3),
    ]


@pytest.mark.parametrize("background", [False, True])
def test_a_conflicting_batch_writes_nothing(db, background):
    bank = Bank(db)
    bank.open_account("a")
    writer = bulk_writer(bank, 1000, background)
    fresh = Account("b")
    fresh.open("Bo")
    writer.save(fresh)
    stale = Account("a")  # "a" is stored at version 1; this one thinks it is new
    stale.open("Cy")
    writer.save(stale)
    with pytest.raises(ConcurrencyError):  # raised here, even when a worker wrote it
        writer.close()
    assert bank.events.stream_version("bank.Account", "b") == 0
    assert db.last_position == 1


def _setting(db, name: str) -> str:
    return db.execute(f"SELECT current_setting('{name}')").fetchone()[0]


def test_checkpoints_wait_while_a_writer_is_open_and_come_back_after(db):
    before = _setting(db, "checkpoint_threshold")
    writer = bulk_writer(Bank(db), 10)
    assert _setting(db, "checkpoint_threshold") != before
    writer.close()
    assert _setting(db, "checkpoint_threshold") == before


@pytest.mark.parametrize("background", [False, True])
def test_a_background_writer_keeps_duckdb_to_one_thread_until_it_closes(db, background):
    db.execute("SET threads = 2")  # as on the two-core machine, whatever this one has
    writer = bulk_writer(Bank(db), 10, background=background)
    assert _setting(db, "threads") == (1 if background else 2)
    writer.close()
    assert _setting(db, "threads") == 2


def test_rows_go_to_duckdb_with_their_text_as_python_strings():
    """Not copied into Arrow first, whether or not pyarrow is installed (see frame_of_rows)."""
    frame = frame_of_rows([["a", 1, "é"], ["b", 2, None]], ["name", "number", "note"])
    assert list(frame.columns) == ["name", "number", "note"]
    assert frame["name"].dtype == object and frame["note"].dtype == object
    assert frame["number"].dtype.kind == "i"
    assert frame.to_dict("list") == {"name": ["a", "b"], "number": [1, 2], "note": ["é", None]}


class ListHistoryAccount(Account):
    """Keeps its history in a list it changes in place, and snapshots that very list."""

    def apply(self, event) -> None:
        kept = self.history if isinstance(self.history, list) else list(self.history)
        super().apply(event)
        kept.append(event.name.split(".")[-1])
        self.history = kept


@pytest.mark.parametrize("background", [False, True])
def test_a_snapshot_holds_the_state_it_was_taken_in_whatever_changes_after(db, background):
    bank = Bank(db)
    writer = bulk_writer(bank, 100, background=background)  # one batch: written at close
    account = ListHistoryAccount("a")
    account.open("Ada")
    for amount in ("1", "2", "3"):  # the snapshot is due at version 3, of 4
        writer.save(account)
        account.deposit(Decimal(amount))
    writer.save(account)
    writer.close()
    version, _, data = writer.targets[Account.NAME].snapshots.read("bank.Account", "a")
    assert version == 3
    assert json.loads(data)["history"] == ["AccountOpened", "MoneyDeposited", "MoneyDeposited"]


def test_a_batch_is_cut_only_when_the_outermost_command_ends_well(db):
    bank = Bank(db)
    writer = bulk_writer(bank, 1)  # every save fills a batch
    account = bank.accounts.new("a")
    with writer.command():
        account.open("Ada")
        writer.save(account)
        with writer.command():  # a nested command joins the outer one
            account.deposit(Decimal(1))
            writer.save(account)
        assert writer.pending == 2  # nothing cut inside the command
    assert writer.pending == 0 and writer.written == 2
    with pytest.raises(RuntimeError), writer.command():
        account.deposit(Decimal(2))
        writer.save(account)
        raise RuntimeError("refused")
    assert writer.pending == 1  # a failed command's saves wait, to be discarded
    assert writer.discard() == 1 and writer.written == 2
