"""A shop's upkeep on PostgreSQL: closed streams archived and snapshots written afresh,
with the same results as on DuckDB, for every process reading the mall."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.postgres_support import NO_PSYCOPG, frame_as_text, same_frames

pytest.importorskip("psycopg", reason=NO_PSYCOPG)

from mallbots.app import MallBots
from mallbots.stores import (
    AddProduct,
    CloseProductBooks,
    CreateStore,
    DecreaseProductPrice,
    IncreaseProductPrice,
)
from tests.shop_scripts import GRAND_TOUR, Ids, run_script
from tests.test_books import assert_still_read_after_archiving, read_models
from tests.test_cli import mallbots

MODULES = ("stores", "baskets", "ordering")


def snapshot_tables(shop: MallBots) -> dict[str, list]:
    return {module: frame_as_text(shop.read_model(f"{module}.snapshots")) for module in MODULES}


def archived(shop: MallBots) -> dict[str, int]:
    """How many events each module's archive holds, where the shop writes."""
    database = shop.database if shop.server is None else shop.server
    counts = {}
    for module in MODULES:
        table = f"{module}.events_archive"
        if table in database.log_tables:
            counts[table] = database.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return counts


def aggregates(ids: Ids) -> list[tuple[str, str]]:
    return [
        *(("stores.Store", i) for i in ids.stores),
        *(("stores.Product", i) for i in ids.products),
        *(("baskets.Basket", i) for i in ids.baskets),
        *(("ordering.Order", i) for i in ids.orders),
    ]


def test_a_script_with_archives_and_a_snapshot_rebuild_ends_as_on_duckdb(postgres_url):
    """The grand tour closes books and archives twice; then both shops write their
    snapshots afresh. Every load afterwards restores a rebuilt snapshot and equals a
    replay of the aggregate's whole life from the log."""
    with MallBots.open(postgres_url, seed=4) as shop, MallBots.in_memory(seed=4) as embedded:
        ids = run_script(shop, GRAND_TOUR)
        assert run_script(embedded, GRAND_TOUR) == ids
        assert archived(shop) == archived(embedded) != {}
        assert same_frames(shop.log_frame(), embedded.log_frame())
        assert read_models(shop) == read_models(embedded)
        assert snapshot_tables(shop) == snapshot_tables(embedded)

        shop.server.execute("UPDATE ordering.snapshots SET snapshot_data = 'garbage'")
        written = shop.rebuild_snapshots()
        assert written == embedded.rebuild_snapshots()
        assert written["stores.snapshots"] > 0
        assert snapshot_tables(shop) == snapshot_tables(embedded)
        for stream_name, aggregate_id in aggregates(ids):
            loaded = shop.load(stream_name, aggregate_id)
            replayed = shop.aggregate_at(stream_name, aggregate_id)
            assert (loaded.version, loaded.state()) == (replayed.version, replayed.state())


def daily_product(shop: MallBots) -> str:
    """A product whose price changed every day for ten days, its books closed, then a
    change in the new stream: 15 events, 12 of them in the closed stream."""
    store = shop.execute(CreateStore("Bits", "Level 1"))
    product = shop.execute(AddProduct(store, "Widget", "10.00", "A widget", "W-1"))
    for day in range(10):
        price = "11.00" if day % 2 == 0 else "10.00"
        change = IncreaseProductPrice if day % 2 == 0 else DecreaseProductPrice
        shop.execute(change(product, price))
    shop.execute(CloseProductBooks(product))
    shop.execute(IncreaseProductPrice(product, "20.00"))
    return product


@pytest.fixture
def daily(postgres_url):
    """:func:`daily_product` on PostgreSQL."""
    with MallBots.open(postgres_url, seed=12) as shop:
        yield shop, daily_product(shop)


def test_archived_streams_leave_the_server_s_hot_table_and_everything_still_reads_them(
    daily, postgres_url, tmp_path
):
    shop, product = daily
    with MallBots.open(postgres_url, read_models=tmp_path / "other.duckdb") as other:
        # another process, whose mirror copied the events before they moved
        live, log = read_models(shop), shop.log_frame()
        price_then = shop.aggregate_at("stores.Product", product, version=5).price

        assert shop.archive_closed_streams() == 12
        assert shop.archive_closed_streams() == 0  # once is enough
        hot = shop.server.execute(
            "SELECT count(*) FROM stores.events WHERE stream_id = %s", [product]
        )
        assert hot.fetchone() == (0,)
        assert archived(shop) == {"stores.events_archive": 12}
        assert same_frames(shop.log_frame(), log)
        assert_still_read_after_archiving(shop, product, live, (5, price_then), 14)

        assert same_frames(other.log_frame(), log)
        other.execute(IncreaseProductPrice(product, "21.00"))  # its loads go on as before
        assert shop.load("stores.Product", product).price == Decimal("21.00")
        other.projector.rebuild(set_based=True)
        assert same_frames(other.log_frame(), shop.log_frame())
        assert read_models(other) == read_models(shop)

    with MallBots.open(postgres_url) as fresh:  # a new mirror copies the archive too
        assert "stores.events_archive" in fresh.database.log_tables
        assert same_frames(fresh.log_frame(), shop.log_frame())
        assert read_models(fresh) == read_models(shop)


def test_a_mirror_that_listed_the_tables_before_an_archive_skips_none_of_its_events(
    postgres_url,
):
    """Another process's mirror reads the server's tables, then the streams move into an
    archive it did not list, then it copies: it stops before the events it did not find,
    and its next catch-up brings them, in order."""
    with MallBots.open(postgres_url, seed=12) as shop, MallBots.open(postgres_url) as other:
        daily_product(shop)  # the other process is behind now
        mirror = other._read_side.mirror
        behind = mirror.behind()
        after, up_to = behind.after, behind.up_to
        assert shop.archive_closed_streams() == 12
        mirror.copy(behind)
        assert after < mirror.head < up_to
        other.catch_up()
        assert mirror.head == up_to
        assert same_frames(other.log_frame(), shop.log_frame())
        other.projector.catch_up()  # the events copied by hand, outside a catch-up
        assert read_models(other) == read_models(shop)


def test_the_command_line_rebuilds_the_snapshots_on_postgresql(daily, postgres_url):
    shop, _ = daily
    before = snapshot_tables(shop)
    shop.server.execute("DELETE FROM stores.snapshots")
    rebuilt = mallbots("rebuild", "--snapshots", "--db", postgres_url)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "stores.snapshots: 1 snapshots written" in rebuilt.stdout  # the closed stream
    assert snapshot_tables(shop) == before


def test_a_table_new_since_behind_leaves_no_copied_snapshot_ahead_of_its_events(postgres_url):
    """The mirror sees snapshots moved; before it copies, an archive makes a table it does
    not list and a new product gets its first snapshot. The copy takes the events it saw
    and leaves the tables as they were: a product's snapshot never comes before its
    events. The next catch-up brings both."""
    with MallBots.open(postgres_url, seed=12) as shop, MallBots.open(postgres_url) as other:
        product = daily_product(shop)
        other.catch_up()  # it holds the events about to be archived
        shop.execute(IncreaseProductPrice(product, "21.00"))
        shop.execute(IncreaseProductPrice(product, "22.00"))  # a snapshot written
        mirror = other._read_side.mirror
        behind = mirror.behind()
        assert behind.tables
        assert shop.archive_closed_streams() == 12  # a new table: stores.events_archive
        store = shop.execute(CreateStore("Later", "Level 2"))
        later = shop.execute(AddProduct(store, "Gadget", "5.00", "A gadget", "G-1"))
        shop.execute(IncreaseProductPrice(later, "6.00"))
        shop.execute(IncreaseProductPrice(later, "7.00"))  # version 3: a snapshot
        mirror.copy(behind)
        copied = other.database.execute(
            "SELECT (SELECT count(*) FROM stores.snapshots WHERE stream_id = $1), "
            "(SELECT count(*) FROM stores.events WHERE stream_id = $1)",
            [later],
        ).fetchone()
        assert copied in ((0, 0), (0, 3), (1, 3))  # never the snapshot without its events
        other.catch_up()
        assert same_frames(other.log_frame(), shop.log_frame())
        assert snapshot_tables(other) == snapshot_tables(shop)
