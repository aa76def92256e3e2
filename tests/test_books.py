"""Closing the books: an endless stream ends, continues in a new one, and moves to the archive."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mallbots import MallBots
from mallbots.stores import (
    AddProduct,
    CloseProductBooks,
    CreateStore,
    DecreaseProductPrice,
    GetProduct,
    IncreaseProductPrice,
    RemoveProduct,
)
from mallbots.stores.errors import BooksClosedError, ProductIsRemovedError, ProductNotFoundError
from tests.shop_support import assert_refused
from tests.test_read_model_properties import read_models as tables_in
from tests.test_shop import tables_of


def read_models(shop: MallBots) -> dict[str, list[tuple]]:
    return tables_in(shop, shop.projector)


@pytest.fixture
def daily(tmp_path):
    """A product whose price changed every day for a month, on a database file."""
    shop = MallBots.open(tmp_path / "books.duckdb", seed=12)
    store = shop.execute(CreateStore("Bits", "Level 1"))
    product = shop.execute(AddProduct(store, "Widget", "10.00", "A widget", "W-1"))
    for day in range(30):
        if day % 2 == 0:
            shop.execute(IncreaseProductPrice(product, "11.00"))
        else:
            shop.execute(DecreaseProductPrice(product, "10.00"))
    yield shop, product
    shop.close()


def streams_of(shop: MallBots, product: str) -> list[tuple]:
    return shop.database.execute(
        "SELECT stream_id, count(*), min(event_name), max(stream_version) "
        f"FROM ({shop.log.sql()}) WHERE event_name LIKE 'stores.Product%' "
        "AND (stream_id = $1 OR metadata->>'aggregate_id' = $1) GROUP BY ALL ORDER BY 2 DESC",
        [product],
    ).fetchall()


def test_closing_the_books_ends_the_stream_and_opens_a_new_one_with_the_state(daily):
    shop, product = daily
    before = shop.load("stores.Product", product)
    assert before.version == 31
    stream = shop.execute(CloseProductBooks(product))
    assert stream != product
    old = shop.stream_frame("stores.Product", product)
    assert old["event_name"].tolist()[-1] == "stores.ProductBooksClosed"
    assert f'"continued_in":"{stream}"' in old["event_data"].tolist()[-1]
    new = shop.stream_frame("stores.Product", stream)
    assert new["event_name"].tolist() == ["stores.ProductBooksOpened"]
    after = shop.load("stores.Product", product)  # by its id, as ever
    assert (after.id, after.stream_id, after.version) == (product, stream, 1)
    assert after.state() == before.state()
    assert shop.execute(GetProduct(product)).price == before.price


def test_commands_go_on_in_the_new_stream_and_read_models_key_them_by_the_product(daily):
    shop, product = daily
    first = shop.execute(CloseProductBooks(product))
    shop.execute(IncreaseProductPrice(product, "12.50"))
    second = shop.execute(CloseProductBooks(product))
    shop.execute(DecreaseProductPrice(product, "12.25"))
    assert second not in (first, product)
    assert [row[:2] for row in streams_of(shop, product)] == [
        (product, 32),
        (first, 3),
        (second, 2),
    ]
    assert shop.execute(GetProduct(product)).price == Decimal("12.25")
    assert shop.load("stores.Product", product).version == 2
    live = tables_of(shop)
    shop.projector.rebuild()
    assert tables_of(shop) == live
    shop.projector.rebuild(set_based=True)
    assert tables_of(shop) == live
    shop.execute(RemoveProduct(product))
    with pytest.raises(ProductNotFoundError):
        shop.execute(GetProduct(product))


def test_the_old_stream_refuses_changes_and_a_removed_product_has_no_books_to_close(daily):
    shop, product = daily
    stale = shop.load("stores.Product", product)
    shop.execute(CloseProductBooks(product))
    stale.close_books("elsewhere")  # a copy loaded before the close is still open in memory
    with pytest.raises(BooksClosedError, match="continues in stream 'elsewhere'"):
        stale.increase_price("99.00")
    shop.execute(RemoveProduct(product))
    assert_refused(
        shop, CloseProductBooks(product), ProductIsRemovedError, "the product has been removed"
    )


def assert_still_read_after_archiving(
    shop: MallBots, product: str, live: dict, then: tuple[int, Decimal], lifetime: int
) -> None:
    """What archiving the product's closed stream must leave as it was: its load (at
    20.00), its price ``then`` = (version, price), its history of ``lifetime`` events,
    and the read models ``live`` rebuilt one event at a time and set-based."""
    assert shop.load("stores.Product", product).price == Decimal("20.00")
    assert shop.aggregate_at("stores.Product", product, version=then[0]).price == then[1]
    assert len(shop.history("stores.Product", product)) == lifetime
    for set_based in (False, True):
        shop.projector.rebuild(set_based=set_based)
        assert read_models(shop) == live


def test_archived_streams_leave_the_hot_table_and_everything_still_reads_them(daily, tmp_path):
    shop, product = daily
    shop.execute(CloseProductBooks(product))
    shop.execute(IncreaseProductPrice(product, "20.00"))
    live, count, head = read_models(shop), shop.log.count(), shop.log.head()
    price_then = shop.aggregate_at("stores.Product", product, version=10).price

    assert shop.archive_closed_streams() == 32
    assert shop.archive_closed_streams() == 0  # once is enough
    assert {"stores.events_archive", "stores.continuations"} <= set(shop.tables)
    assert len(shop.stream_frame("stores.Product", product)) == 32  # read from the archive
    assert len(shop.read_model("stores.events_archive")) == 32
    hot = shop.database.execute(
        "SELECT count(*) FROM stores.events WHERE stream_id = $1", [product]
    )
    assert hot.fetchone() == (0,)
    assert (shop.log.count(), shop.log.head()) == (count, head)
    assert_still_read_after_archiving(shop, product, live, (10, price_then), 34)

    path = shop.database.path  # a new process finds the archive and reads it into the log
    shop.close()
    with MallBots.open(path) as reopened:
        assert "stores.events_archive" in reopened.log.tables
        assert reopened.log.count() == count
        reopened.projector.rebuild(set_based=True)
        assert read_models(reopened) == live
        assert reopened.load("stores.Product", product).price == Decimal("20.00")
