"""A checkpoint moves in its read model's transaction: a failed write counts nothing.

The workbook's exactly-once promise rests on one transaction holding both the read
model's rows and the checkpoint that says how far they go. These tests make the
checkpoint's write fail between the two, for real: the checkpoint table is swapped for a
view over it, which DuckDB refuses to update. If the rows had committed on their own, a
restarted projector would read the old checkpoint and apply the same events again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from decimal import Decimal

import duckdb
import pytest

from mallbots.es import Database, EventLog, HandlerError, on
from mallbots.es.projector import CHECKPOINTS, Projector
from tests.es_support import Balances, Bank
from tests.test_projections import busy_bank_on, projector_for, read_model


@contextlib.contextmanager
def checkpoints_refuse_writes(db: Database) -> Iterator[None]:
    """While inside, every write to the checkpoint table fails; reads still work."""
    kept = f"{CHECKPOINTS}_kept"
    db.execute(f"ALTER TABLE {CHECKPOINTS} RENAME TO checkpoints_kept")
    db.execute(f"CREATE VIEW {CHECKPOINTS} AS SELECT * FROM {kept}")
    try:
        yield
    finally:
        db.execute(f"DROP VIEW {CHECKPOINTS}")
        db.execute(f"ALTER TABLE {kept} RENAME TO checkpoints")


def restarted(bank: Bank, schema: str = "bank") -> Projector:
    """A new projector on the same file, as after a restart: it reads the stored checkpoint."""
    projector = Projector(bank.database, EventLog(bank.database, bank.registry), 7)
    projector.add(Balances(schema), inline=False)
    return projector


def expected_read_model(bank: Bank) -> list[tuple]:
    projector_for(bank, "expected", inline=False).catch_up()
    return read_model(bank.database, "expected")


def test_the_fault_is_real_a_write_to_the_checkpoints_fails(db):
    Projector(db, EventLog(db, Bank(db).registry))
    with checkpoints_refuse_writes(db), pytest.raises(duckdb.Error):
        db.execute(f"UPDATE {CHECKPOINTS} SET position = 1")
    db.execute(f"UPDATE {CHECKPOINTS} SET position = position")  # a table again


@pytest.mark.parametrize("commit_every", [1, 1_000_000])
def test_a_catch_up_whose_checkpoint_fails_keeps_none_of_its_rows(db, commit_every):
    bank = Bank(db, every=None)
    busy_bank_on(bank)
    projector = projector_for(bank, inline=False)
    projector.commit_every = commit_every
    with checkpoints_refuse_writes(db), pytest.raises(duckdb.Error):
        projector.catch_up()
    assert read_model(db) == []  # the rows went with the checkpoint
    assert projector.position("bank.balances") == 0
    again = restarted(bank)
    assert again.position("bank.balances") == 0
    assert again.catch_up() == EventLog(db, bank.registry).head()
    assert read_model(db) == expected_read_model(bank)  # every event counted once


def test_a_catch_up_failing_on_a_later_commit_keeps_exactly_the_earlier_ones(db):
    bank = Bank(db, every=None)
    busy_bank_on(bank)
    projector = projector_for(bank, inline=False, batch=5)
    projector.commit_every = 5
    projector.catch_up(max_batches=2)  # two commits land
    landed = projector.position("bank.balances")
    rows_then = read_model(db)
    with checkpoints_refuse_writes(db), pytest.raises(duckdb.Error):
        projector.catch_up()  # the third commit fails at its checkpoint
    assert (read_model(db), projector.position("bank.balances")) == (rows_then, landed)
    again = restarted(bank)
    assert again.position("bank.balances") == landed
    again.catch_up()
    assert read_model(db) == expected_read_model(bank)


def test_an_inline_event_whose_checkpoint_fails_is_applied_once_after_a_restart(db):
    bank = Bank(db, every=None)
    projector = projector_for(bank)
    bank.open_account("a1")
    account = bank.accounts.load("a1")
    account.deposit(Decimal("10"))
    with checkpoints_refuse_writes(db), pytest.raises(HandlerError):
        bank.accounts.save(account)  # the event is stored; its projection fails
    assert read_model(db) == [("a1", "Ada", Decimal("0.00"), False, 1)]
    assert projector.position("bank.balances") == 1
    again = restarted(bank)
    assert again.catch_up() == 1
    assert read_model(db) == [("a1", "Ada", Decimal("10.00"), False, 2)]


def test_an_inline_projector_failing_its_checkpoint_resumes_by_itself(db):
    bank = Bank(db, every=None)
    projector_for(bank)
    bank.open_account("a1")
    account = bank.accounts.load("a1")
    account.deposit(Decimal("10"))
    with checkpoints_refuse_writes(db), pytest.raises(HandlerError):
        bank.accounts.save(account)
    account = bank.accounts.load("a1")
    account.deposit(Decimal("5"))
    bank.accounts.save(account)  # a gap behind it: the projector catches up from the log
    assert read_model(db) == [("a1", "Ada", Decimal("15.00"), False, 3)]


class BrokenAt(Balances):
    """The balances read model with a handler's bug met at one position of the log."""

    broken_at = 9  # a1's first deposit, after the six openings and a0's first save

    @on("bank.MoneyDeposited", "bank.MoneyWithdrawn")
    def moved(self, rows, event) -> None:
        if event.position == self.broken_at:
            raise RuntimeError("a handler's bug")
        super().moved(rows, event)


@pytest.mark.parametrize(
    ("commit_every", "commit_rows", "landed"),
    [(4, 1_000, 8), (1_000, 2, 6)],  # every four events; as soon as two rows wait
)
def test_a_catch_up_that_fails_keeps_each_commit_made_as_soon_as_its_limit_is_reached(
    db, commit_every, commit_rows, landed
):
    """Windows of two positions: a commit follows the window that reaches a limit, never
    one more, so the commits before the failure are exactly these."""
    bank = Bank(db, every=None)
    busy_bank_on(bank)
    projector = Projector(
        db, EventLog(db, bank.registry), 2, commit_every=commit_every, commit_rows=commit_rows
    )
    projector.add(BrokenAt("bank"), inline=False)
    with pytest.raises(RuntimeError, match="a handler's bug"):
        projector.catch_up()
    assert projector.position("bank.balances") == landed
    assert restarted(bank).position("bank.balances") == landed
