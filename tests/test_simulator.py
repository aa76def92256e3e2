"""The simulator: seeded and repeatable, and its bulk path equal to one command at a time."""

from __future__ import annotations

import duckdb
import pytest

from mallbots.app import MallBots
from mallbots.baskets import AddItem, CheckoutBasket
from mallbots.baskets.errors import BasketNotFoundError
from mallbots.payments import AuthorizePayment
from mallbots.payments.errors import PaymentCannotBeConfirmedError
from mallbots.simulator import (
    PRESETS,
    Activity,
    SimulationConfig,
    Step,
    run_simulation,
    simulate,
    simulation_shop,
)
from mallbots.simulator.bulk import BulkRunner
from mallbots.stores import AddProduct, GetProduct, RebrandProduct

TINY = SimulationConfig(seed=5, stores=3, products_per_store=4, customers=20, days=6)
LOG = (
    "SELECT position, stream_name, stream_id, stream_version, event_name, event_data, "
    "occurred_at, event_id::VARCHAR FROM ({}) ORDER BY position"
)
EMPTY = {"stores.continuations"}
"""Tables a simulation leaves empty: it never closes the books."""


def log_rows(shop: MallBots) -> list[tuple]:
    return shop.database.execute(LOG.format(shop.log.sql())).fetchall()


@pytest.fixture(scope="module")
def both_paths():
    shops = {bulk: simulate(TINY, bulk=bulk, progress=False)[0] for bulk in (True, False)}
    yield shops
    for shop in shops.values():
        shop.close()


def test_bulk_and_per_command_paths_record_the_same_streams(both_paths):
    bulk, one_by_one = (log_rows(both_paths[b]) for b in (True, False))
    assert len(bulk) == len(one_by_one) > 150
    # Equal: position, stream, version, name, payload, time and id of every event (the
    # same services run on both paths, so they draw the same ids in the same order).
    assert bulk == one_by_one


def test_bulk_and_per_command_paths_fill_every_table_with_the_same_rows(both_paths):
    bulk, one_by_one = both_paths[True], both_paths[False]
    assert bulk.tables == one_by_one.tables
    for table in bulk.tables:
        rows = [
            s.database.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
            for s in (bulk, one_by_one)
        ]
        assert rows[0] == rows[1], table
        if table not in EMPTY:
            assert rows[0], f"{table} is empty"
    assert bulk.projector.status().equals(one_by_one.projector.status())


def test_small_batches_change_nothing_of_what_a_bulk_run_writes(both_paths):
    """Batches of a few events: rows updated batches after they were written, ended
    aggregates let go and the writer waited on, and still the same tables."""
    shop = simulation_shop(TINY)
    with shop:
        run_simulation(shop, TINY, batch_size=7, progress=False)
        reference = both_paths[False]
        for table in reference.tables:
            rows = [
                s.database.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
                for s in (shop, reference)
            ]
            assert rows[0] == rows[1], table


def test_the_same_seed_gives_the_same_log_byte_for_byte():
    logs = []
    for _ in range(2):
        shop, _ = simulate(TINY, progress=False)
        logs.append(log_rows(shop))
        shop.close()
    assert logs[0] == logs[1]
    other, _ = simulate(TINY.with_changes(seed=6), progress=False)
    assert log_rows(other) != logs[0]


def test_positions_and_stream_versions_are_contiguous(both_paths):
    shop = both_paths[True]
    rows = log_rows(shop)
    assert [row[0] for row in rows] == list(range(1, len(rows) + 1))
    gaps = shop.database.execute(
        f"SELECT count(*) FROM (SELECT stream_name, stream_id, count(*) AS n, "
        f"max(stream_version) AS top FROM ({shop.log.sql()}) GROUP BY ALL) WHERE n <> top"
    ).fetchone()[0]
    assert gaps == 0


def test_the_classroom_preset_shows_every_kind_of_event():
    shop, result = simulate(PRESETS["classroom"], progress=False)
    names = {
        row[0]
        for row in shop.database.execute(
            f"SELECT DISTINCT event_name FROM ({shop.log.sql()})"
        ).fetchall()
    }
    # every kind but closing the books, which the simulator leaves to its caller
    books = {"stores.ProductBooksClosed", "stores.ProductBooksOpened"}
    assert names == set(shop.registry.names("event")) - books
    assert 3_000 <= result.events <= 10_000 and result.days == 10
    # Baskets live over several days, some are left open for good.
    lifetimes = shop.database.execute(
        f"SELECT count(DISTINCT stream_id) FILTER (WHERE event_name = 'baskets.BasketStarted'), "
        f"max(occurred_at) - min(occurred_at) FROM ({shop.log.sql()})"
    ).fetchone()
    assert lifetimes[0] > 100
    shop.close()


def test_a_run_stops_once_it_has_max_events():
    shop, result = simulate(TINY.with_changes(max_events=100), progress=False)
    assert 100 <= result.events <= 101  # a checkout records two events
    assert shop.log.count() == result.events
    shop.close()


def test_a_bulk_run_into_a_file_leaves_duckdbs_memory_limit_as_it_found_it(tmp_path):
    shop, result = simulate(TINY, tmp_path / "shop.duckdb", progress=False)
    with shop:
        (limit,) = shop.database.execute("SELECT current_setting('memory_limit')").fetchone()
        with duckdb.connect() as fresh:
            (default,) = fresh.execute("SELECT current_setting('memory_limit')").fetchone()
        assert limit == default
        assert shop.log.count() == result.events


def test_simulating_into_a_database_that_holds_events_is_refused(tmp_path):
    path = tmp_path / "shop.duckdb"
    shop, _ = simulate(TINY.with_changes(days=1), path, progress=False)
    shop.close()
    with pytest.raises(ValueError, match="already holds events"):
        simulate(TINY, path, progress=False)


def test_a_refused_command_stops_the_bulk_path_keeping_the_batches_written():
    shop = simulation_shop(TINY)
    threshold = "SELECT current_setting('checkpoint_threshold')"
    (before,) = shop.database.execute(threshold).fetchone()
    runner = BulkRunner(shop, shop.clock, batch_size=10)
    steps = next(iter(Activity(TINY).days()))[1]
    for step in steps[:30]:
        runner.run(step)
    with pytest.raises(BasketNotFoundError):
        runner.run(Step(steps[30].moment, AddItem("no-basket", "no-product")))
    runner.abort()
    assert shop.log.count() == runner.writer.written > 0  # whole batches, no more
    assert shop.database.execute(threshold).fetchone() == (before,)
    shop.close()


def test_the_bulk_path_keeps_a_description_left_out_of_a_rebrand_as_the_shop_does():
    shop = simulation_shop(TINY)
    runner = BulkRunner(shop, shop.clock)
    steps = next(iter(Activity(TINY).days()))[1]
    for step in steps:
        runner.run(step)
    added = next(step.command for step in steps if isinstance(step.command, AddProduct))
    runner.run(Step(steps[-1].moment, RebrandProduct(added.product_id, "Renamed")))
    runner.finish()
    product = shop.execute(GetProduct(added.product_id))
    assert (product.name, product.description) == ("Renamed", added.description)
    shop.close()


def test_a_bulk_batch_never_splits_a_command_from_what_it_caused():
    """A checkout refused by the order it creates (the payment is too small) leaves no
    checked-out basket behind, even with batches of one event (issue 17, item 4)."""
    shop = simulation_shop(TINY)
    runner = BulkRunner(shop, shop.clock, batch_size=1)
    steps = next(iter(Activity(TINY).days()))[1]
    baskets = {}
    for step in steps:
        runner.run(step)
        if isinstance(step.command, AddItem):
            baskets[step.command.basket_id] = step.command
    checked_out = {s.command.basket_id for s in steps if isinstance(s.command, CheckoutBasket)}
    open_basket = next(b for b in baskets.values() if b.basket_id not in checked_out)
    customer = shop.load("baskets.Basket", open_basket.basket_id).customer_id
    moment = steps[-1].moment
    runner.run(Step(moment, AuthorizePayment(customer, "0.01", payment_id="too-small")))
    with pytest.raises(PaymentCannotBeConfirmedError):
        runner.run(Step(moment, CheckoutBasket(open_basket.basket_id, "too-small")))
    runner.abort()
    names = shop.database.execute(
        f"SELECT event_name, count(*) FROM ({shop.log.sql()}) GROUP BY ALL"
    ).fetchall()
    counts = dict(names)
    assert counts["baskets.BasketCheckedOut"] == counts["ordering.OrderCreated"] > 0
    (lists,) = shop.database.execute("SELECT count(*) FROM depot.shopping_lists").fetchone()
    assert lists == counts["ordering.OrderCreated"]
    (refused,) = shop.database.execute(
        f"SELECT count(*) FROM ({shop.log.sql()}) WHERE stream_id = $1 "
        "AND event_name = 'baskets.BasketCheckedOut'",
        [open_basket.basket_id],
    ).fetchone()
    assert refused == 0
    shop.close()


def test_a_bulk_run_leaves_no_handler_of_its_own_on_the_shop():
    """Its live read models unsubscribe when the run ends: the shop outlives the run."""
    shop, _ = simulate(
        PRESETS["classroom"].with_changes(max_events=500), ":memory:", progress=False
    )
    with shop, MallBots.in_memory(seed=1) as fresh:
        names = [
            name
            for (name,) in shop.database.execute(
                "SELECT DISTINCT event_name FROM stores.events ORDER BY 1"
            ).fetchall()
        ]
        assert names
        after = {name: len(shop.dispatcher.handlers_for(name)) for name in names}
        before = {name: len(fresh.dispatcher.handlers_for(name)) for name in names}
    assert after == before
