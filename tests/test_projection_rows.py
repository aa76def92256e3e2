"""Projections beyond one row per event's aggregate: plain SQL, rows no event announced,
rows found through ``find_by`` and rewritten commit after commit."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import pytest

import mallbots.es.projection as projection_module
from mallbots.es import AggregateEvent, EventLog, Projection, RowBuffer, RowProjection, on
from mallbots.es.projector import Projector
from tests.es_support import Bank
from tests.test_projections import busy_bank_on, busy_bank_projected_inline
from tests.test_set_based import Movements


class Ledger(Projection):
    """Every movement of money as a row of its own, written by plain SQL (no row buffer)."""

    NAME = "ledger"
    handles = frozenset({"bank.MoneyDeposited", "bank.MoneyWithdrawn"})

    @property
    def tables(self) -> list[str]:
        return [f"{self.schema}.ledger"]

    def setup(self, cursor) -> None:
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {self.schema}.ledger "
            "(position BIGINT PRIMARY KEY, account VARCHAR, amount DECIMAL(18, 2))"
        )

    def apply(self, cursor, events) -> None:
        if not events:  # a window of the log may hold none of its events
            return
        cursor.executemany(
            f"INSERT INTO {self.schema}.ledger VALUES ($1, $2, $3)",
            [
                [
                    event.position,
                    event.aggregate_id,
                    event.payload.amount * (1 if event.name == "bank.MoneyDeposited" else -1),
                ]
                for event in events
            ],
        )


def movements_in_the_log(bank: Bank) -> list[tuple]:
    return [
        (event.position, event.aggregate_id, event.payload.amount * sign)
        for event in EventLog(bank.database, bank.registry).events()
        for name, sign in [("bank.MoneyDeposited", 1), ("bank.MoneyWithdrawn", -1)]
        if event.name == name
    ]


def test_a_projection_of_plain_sql_runs_inline_caught_up_and_rebuilt_alike(db):
    bank = busy_bank_projected_inline(db, Ledger("inline"))
    expected = movements_in_the_log(bank)
    assert len(expected) == 38  # 29 deposits, 9 withdrawals
    for schema, batch in (("pairs", 2), ("whole", 1000)):
        later = Projector(db, EventLog(db, bank.registry), batch_size=batch, commit_every=5)
        later.add(Ledger(schema), inline=False)
        assert later.catch_up() == len(expected)
        later.rebuild()
        assert later.position(f"{schema}.ledger") == EventLog(db, bank.registry).head()
    for schema in ("inline", "pairs", "whole"):
        assert db.execute(f"SELECT * FROM {schema}.ledger ORDER BY ALL").fetchall() == expected


class Totals(RowProjection):
    """Each account's balance, and one row for the whole bank that no event names:
    handlers read it (``get``) and change it (``edit``) without it being preloaded."""

    NAME = "totals"
    table_name = "totals"
    columns: ClassVar[dict[str, str]] = {"id": "VARCHAR", "balance": "DECIMAL(18, 2)"}

    @on("bank.AccountOpened")
    def opened(self, rows: RowBuffer, event: AggregateEvent) -> None:
        rows.put({"id": event.aggregate_id, "balance": Decimal("0")})
        if "bank" not in rows:
            rows.put({"id": "bank", "balance": Decimal("0")})

    @on("bank.MoneyDeposited", "bank.MoneyWithdrawn")
    def moved(self, rows: RowBuffer, event: AggregateEvent) -> None:
        amount = event.payload.amount * (1 if event.name == "bank.MoneyDeposited" else -1)
        rows.edit(event.aggregate_id)["balance"] += amount
        rows.edit("bank")["balance"] += amount


def test_a_row_no_event_announced_is_read_and_changed_all_the_same(db):
    """The whole-bank row is fetched alone when a handler asks for it, inline (a row per
    save) or caught up in batches, and ends as the sum of every account's balance."""
    bank = busy_bank_projected_inline(db, Totals("inline"))
    late = bank.open_account("a6")  # opened after money moved: the bank's row stands
    late.deposit(Decimal("2"))
    bank.accounts.save(late)
    balances = {f"a{n}": bank.accounts.load(f"a{n}").balance for n in range(7)}
    expected = sorted([*balances.items(), ("bank", sum(balances.values()))])
    for schema, batch in (("inline", None), ("batches", 4)):
        if batch is not None:
            later = Projector(db, EventLog(db, bank.registry), batch_size=batch, commit_every=8)
            later.add(Totals(schema), inline=False)
            later.catch_up()
        assert db.execute(f"SELECT * FROM {schema}.totals ORDER BY id").fetchall() == expected


def test_rows_found_through_find_by_are_rewritten_by_every_commit_of_a_catch_up(db):
    """Later commits rewrite rows earlier ones wrote (deleted by rowid, appended again):
    each commit of ten events changes more rows than are written in place."""
    bank = busy_bank_projected_inline(db, Movements("inline"))
    expected = db.execute("SELECT * FROM inline.movements ORDER BY id, kind").fetchall()
    later = Projector(db, EventLog(db, bank.registry), batch_size=5, commit_every=10)
    later.add(Movements("commits"), inline=False)
    later.catch_up()
    assert db.execute("SELECT * FROM commits.movements ORDER BY id, kind").fetchall() == expected
    (count,) = db.execute("SELECT count(*) FROM commits.movements").fetchone()
    assert count == len(expected)  # no row left behind twice by a rewrite


class Savers(RowProjection):
    """A table of one column, its key: the accounts that ever received a deposit."""

    NAME = "savers"
    table_name = "savers"
    columns: ClassVar[dict[str, str]] = {"id": "VARCHAR"}

    @on("bank.MoneyDeposited")
    def deposited(self, rows: RowBuffer, event: AggregateEvent) -> None:
        rows.put({"id": event.aggregate_id})


def test_a_table_of_only_its_key_is_written_row_by_row_and_in_batches_alike(db):
    bank = busy_bank_projected_inline(db, Savers("inline"))
    later = Projector(db, EventLog(db, bank.registry), batch_size=50)
    later.add(Savers("batch"), inline=False)
    later.catch_up()
    expected = [(f"a{n}",) for n in range(6)]
    for schema in ("inline", "batch"):
        assert db.execute(f"SELECT * FROM {schema}.savers ORDER BY id").fetchall() == expected


def test_a_catch_up_holding_more_rows_than_it_may_cache_forgets_them_and_agrees(db, monkeypatch):
    """Memory stays bounded on a long catch-up: past ``CACHED_ROWS`` the writer forgets the
    rows it read (here after three) and reads them again when needed."""
    bank = Bank(db, every=None)
    busy_bank_on(bank)
    whole = Projector(db, EventLog(db, bank.registry))
    whole.add(Totals("whole"), inline=False)
    whole.catch_up()
    monkeypatch.setattr(projection_module, "CACHED_ROWS", 3)
    forgetful = Projector(db, EventLog(db, bank.registry), batch_size=3, commit_every=3)
    forgetful.add(Totals("forgetful"), inline=False)
    forgetful.catch_up()
    expected = db.execute("SELECT * FROM whole.totals ORDER BY id").fetchall()
    assert db.execute("SELECT * FROM forgetful.totals ORDER BY id").fetchall() == expected


def test_a_projection_without_sql_says_which_when_asked_for_it(db):
    with pytest.raises(NotImplementedError, match=r"^plain\.ledger has no set-based rebuild$"):
        Ledger("plain").rebuild_set_based(db.cursor(), "SELECT 1")
    with pytest.raises(NotImplementedError, match=r"^rows\.totals has no set-based rebuild$"):
        Totals("rows").rows_sql()


class FoundByItsOwnKey(Totals):
    find_by = "id"


class FoundByNothingOfItsKey(Movements):
    find_by = "balance"


@pytest.mark.parametrize("projection", [FoundByItsOwnKey, FoundByNothingOfItsKey])
def test_find_by_must_name_a_column_of_a_composite_key(db, projection):
    with pytest.raises(ValueError, match=r"^find_by names a column of a composite key, not '"):
        projection("bad").setup(db.cursor())


def test_handlers_marked_with_on_are_found_through_the_bases_and_name_what_it_handles(db):
    """Defined here, not at import, so that mutation testing sees this class machinery run."""

    class Opened(RowProjection):
        NAME = "opened"
        table_name = "accounts"
        columns: ClassVar[dict[str, str]] = {"id": "VARCHAR", "deposits": "INT"}

        @on("bank.AccountOpened", "bank.AccountRenamed")
        def opened(self, rows: RowBuffer, event: AggregateEvent) -> None:
            if event.aggregate_id not in rows:
                rows.put({"id": event.aggregate_id, "deposits": 0})

    class Counted(Opened):
        NAME = "counted"

        @on("bank.MoneyDeposited")
        def deposited(self, rows: RowBuffer, event: AggregateEvent) -> None:
            rows.edit(event.aggregate_id)["deposits"] += 1

    class OpenedOnly(Counted):
        NAME = "opened_only"
        handles = frozenset({"bank.AccountOpened"})

    assert Opened.handles == {"bank.AccountOpened", "bank.AccountRenamed"}
    assert Counted.handles == {"bank.AccountOpened", "bank.AccountRenamed", "bank.MoneyDeposited"}
    assert OpenedOnly.handles == {"bank.AccountOpened"}
    bank = Bank(db, every=None)
    busy_bank_on(bank)
    projector = Projector(db, EventLog(db, bank.registry))
    for projection in (Opened("a"), Counted("b"), OpenedOnly("c")):
        projector.add(projection, inline=False)
    projector.catch_up()
    tables = {
        schema: db.execute(f"SELECT * FROM {schema}.accounts ORDER BY id").fetchall()
        for schema in "abc"
    }
    assert tables["a"] == tables["c"] == [(f"a{n}", 0) for n in range(6)]
    assert tables["b"] == [(f"a{n}", 4 if n == 2 else 5) for n in range(6)]
