"""The projector's ways to run a projection: catch-up commits, composite keys, set-based SQL."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import pytest

from mallbots import MallBots
from mallbots.es import AggregateEvent, EventLog, RowBuffer, RowProjection, on
from mallbots.es.projector import Projector
from mallbots.stores import (
    AddProduct,
    CloseProductBooks,
    CreateStore,
    DecreaseProductPrice,
    GetProduct,
    IncreaseProductPrice,
)
from tests.es_support import Balances, Bank
from tests.test_projections import (
    busy_bank_on,
    busy_bank_projected_inline,
    projector_for,
    read_model,
)
from tests.test_shop import busy_day, tables_of


def test_a_set_based_rebuild_writes_what_the_handlers_wrote_and_moves_to_the_head():
    with MallBots.in_memory(seed=5) as shop:
        busy_day(shop)
        live = tables_of(shop)
        shop.database.execute("UPDATE projections.checkpoints SET position = 3")
        applied = shop.projector.rebuild(set_based=True)
        assert tables_of(shop) == live
        head = shop.log.head()
        assert shop.projector.status()["position"].tolist() == [head] * 4
        stored = shop.database.execute("SELECT DISTINCT position FROM projections.checkpoints")
        assert stored.fetchall() == [(head,)]
        handled = set().union(*(p.handles for p in shop.projector))
        assert applied == sum(len(shop.log.read_range(0, head, p.handles)) for p in shop.projector)
        assert handled


def test_a_product_made_again_counts_only_the_price_changes_after_its_books_closed():
    """Closing a product's books makes it again at its current price: the set-based SQL
    must not add the price changes before that a second time."""
    with MallBots.in_memory(seed=5) as shop:
        store = shop.execute(CreateStore("Corner", "Level 1"))
        product = shop.execute(AddProduct(store, "Lamp", "10.00", "bright", "L-1"))
        shop.execute(IncreaseProductPrice(product, "13.00"))
        shop.execute(DecreaseProductPrice(product, "12.00"))
        shop.execute(CloseProductBooks(product))
        shop.execute(IncreaseProductPrice(product, "12.50"))
        shop.execute(CloseProductBooks(product))
        shop.execute(DecreaseProductPrice(product, "12.25"))
        assert shop.execute(GetProduct(product)).price == Decimal("12.25")
        live = tables_of(shop)
        shop.projector.rebuild(set_based=True)
        assert tables_of(shop) == live
        assert shop.execute(GetProduct(product)).price == Decimal("12.25")


def test_a_projection_without_sql_is_refused_a_set_based_rebuild(db):
    bank = Bank(db, every=None)
    projector = projector_for(bank)
    bank.open_account("a1")
    with pytest.raises(ValueError, match=r"no set-based rebuild for: bank\.balances"):
        projector.rebuild(set_based=True)
    assert read_model(db) == [("a1", "Ada", Decimal("0.00"), False, 1)]


def test_a_catch_up_commits_every_so_many_events_and_resumes_from_there(db):
    bank = Bank(db, every=None)
    busy_bank_on(bank)
    log = EventLog(db, bank.registry)
    projector = Projector(db, log, batch_size=4, commit_every=8)
    projector.add(Balances("chunked"), inline=False)
    assert projector.catch_up(max_batches=3) == 12  # two windows committed, then a third
    assert projector.position("chunked.balances") == 12
    assert db.execute("SELECT position FROM projections.checkpoints").fetchall() == [(12,)]
    projector.catch_up()
    whole = projector_for(bank, "whole", inline=False)
    whole.catch_up()
    assert read_model(db, "chunked") == read_model(db, "whole")


class ByOwner(RowProjection):
    """Accounts per owner: a composite key ``(owner, id)``."""

    NAME = "by_owner"
    table_name = "by_owner"
    key = ("owner", "id")
    columns: ClassVar[dict[str, str]] = {"owner": "VARCHAR", "id": "VARCHAR", "deposits": "INT"}

    def keys_of(self, event: AggregateEvent):
        return (("Ada", event.aggregate_id),)

    @on("bank.AccountOpened")
    def opened(self, rows: RowBuffer, event: AggregateEvent) -> None:
        rows.put({"owner": event.payload.owner, "id": event.aggregate_id, "deposits": 0})

    @on("bank.MoneyDeposited")
    def deposited(self, rows: RowBuffer, event: AggregateEvent) -> None:
        row = rows.get(("Ada", event.aggregate_id))
        rows.update(("Ada", event.aggregate_id), deposits=row["deposits"] + 1)


def test_rows_may_have_a_composite_key(db):
    bank = Bank(db, every=None)
    projector = Projector(db, EventLog(db, bank.registry), batch_size=2)
    projector.add(ByOwner("bank"))
    bank.dispatcher.subscribe(projector.handle)
    for name in ("a1", "a2"):
        account = bank.open_account(name)
        for _ in range(3):
            account.deposit(Decimal(1))
        bank.accounts.save(account)
    expected = [("Ada", "a1", 3), ("Ada", "a2", 3)]
    assert db.execute("SELECT * FROM bank.by_owner ORDER BY ALL").fetchall() == expected
    projector.rebuild()
    assert db.execute("SELECT * FROM bank.by_owner ORDER BY ALL").fetchall() == expected


class Movements(RowProjection):
    """Deposits and withdrawals counted apart: two rows per account, sharing its id,
    found through it (``find_by``); closing an account deletes its withdrawals row."""

    NAME = "movements"
    table_name = "movements"
    key = ("kind", "id")
    find_by = "id"
    columns: ClassVar[dict[str, str]] = {"kind": "VARCHAR", "id": "VARCHAR", "count": "INT"}

    def keys_of(self, event: AggregateEvent):
        return (("deposits", event.aggregate_id), ("withdrawals", event.aggregate_id))

    @on("bank.AccountOpened")
    def opened(self, rows: RowBuffer, event: AggregateEvent) -> None:
        for kind in ("deposits", "withdrawals"):
            rows.put({"kind": kind, "id": event.aggregate_id, "count": 0})

    @on("bank.MoneyDeposited", "bank.MoneyWithdrawn")
    def moved(self, rows: RowBuffer, event: AggregateEvent) -> None:
        key = (
            "deposits" if event.name == "bank.MoneyDeposited" else "withdrawals",
            event.aggregate_id,
        )
        rows.update(key, count=rows.get(key)["count"] + 1)

    @on("bank.AccountClosed")
    def closed(self, rows: RowBuffer, event: AggregateEvent) -> None:
        rows.delete(("withdrawals", event.aggregate_id))


def test_rows_found_through_find_by_are_written_in_place_or_in_batches_alike(db):
    """Inline, each event changes a row or two (updated, inserted or deleted by rowid);
    a catch-up writes two events' rows, or many at once: all keep the rows of an id apart."""
    bank = busy_bank_projected_inline(db, Movements("inline"))
    rows = db.execute("SELECT * FROM inline.movements ORDER BY id, kind").fetchall()
    expected = []
    for n in range(6):
        deposits = 4 if n == 2 else 5  # a2 closed in its fourth round
        withdrawals = sum((n + r) % 3 == 0 for r in range(deposits))
        expected.append(("deposits", f"a{n}", deposits))
        if n != 2:
            expected.append(("withdrawals", f"a{n}", withdrawals))
    assert rows == expected
    # two events a write: an account's two rows change together, found by rowid
    for schema, batch in (("pairs", 2), ("batches", 50)):
        replica = Projector(db, EventLog(db, bank.registry), batch_size=batch, commit_every=batch)
        replica.add(Movements(schema), inline=False)
        replica.catch_up()
        assert db.execute(f"SELECT * FROM {schema}.movements ORDER BY id, kind").fetchall() == rows


def test_the_log_relation_names_each_events_aggregate_even_in_a_continuation_stream():
    with MallBots.in_memory(seed=5) as shop:
        store = shop.execute(CreateStore("Bits", "Level 1"))
        product = shop.execute(AddProduct(store, "Widget", "1.00"))
        stream = shop.execute(CloseProductBooks(product))
        shop.execute(IncreaseProductPrice(product, "2.00"))
        relation = shop.log.relation(up_to=4, names={"stores.ProductBooksOpened"})
        rows = shop.database.execute(f"SELECT stream_id, aggregate_id FROM ({relation})")
        assert rows.fetchall() == [(stream, product)]
        everything = shop.database.execute(f"SELECT count(*) FROM ({shop.log.relation()})")
        assert everything.fetchone() == (5,)
        assert shop.log.stream("stores.Product", stream)[-1].aggregate_id == product
