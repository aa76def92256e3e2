"""The shop with an aggregate cache: the same log, the same read models, fewer reads."""

from __future__ import annotations

from mallbots import MallBots
from mallbots.baskets import AddItem, StartBasket
from mallbots.customers import RegisterCustomer
from mallbots.es import Database, SeededIds, SteppingClock
from mallbots.simulator import SimulationConfig, run_simulation
from mallbots.simulator.run import CLOCK_STEP
from mallbots.stores import (
    AddProduct,
    CloseProductBooks,
    CreateStore,
    EnableParticipation,
    RebrandProduct,
)
from tests.shop_support import state_of

CONFIG = SimulationConfig(seed=11, stores=3, products_per_store=4, customers=30, days=5)


def simulated(aggregate_cache: int) -> MallBots:
    """The config run one command at a time, on a shop with that many cached aggregates."""
    clock = SteppingClock(CONFIG.start, CLOCK_STEP)
    shop = MallBots(
        Database.memory(), clock=clock, ids=SeededIds(CONFIG.seed), aggregate_cache=aggregate_cache
    )
    run_simulation(shop, CONFIG, bulk=False, progress=False)
    return shop


def test_a_cached_shop_writes_exactly_what_an_uncached_one_writes():
    shops = [simulated(size) for size in (0, 3, 10_000)]
    try:
        plain, tight, roomy = (state_of(shop) for shop in shops)
        assert plain[0] > 200  # events
        assert tight == plain and roomy == plain  # log, every table, every checkpoint
        assert shops[0].aggregate_cache is None
        cache = shops[2].aggregate_cache
        assert cache.hits > cache.misses > 0  # most commands skipped their load
        assert shops[1].aggregate_cache.hits < cache.hits  # three entries: fewer hits
    finally:
        for shop in shops:
            shop.close()


def test_closing_a_products_books_moves_its_cached_copy_to_the_new_stream(tmp_path):
    with MallBots.open(tmp_path / "shop.duckdb", seed=3, aggregate_cache=100) as shop:
        store = shop.execute(CreateStore("Waldorf Widgets", "Level 1"))
        product = shop.execute(AddProduct(store, "Widget", "9.99", "A widget", "W-1"))
        successor = shop.execute(CloseProductBooks(product))
        shop.execute(RebrandProduct(product, "Widget Pro", "A better widget"))
        cached = shop.load("stores.Product", product)
        assert (cached.stream_id, cached.version, cached.name) == (successor, 2, "Widget Pro")
        shop.aggregate_cache.clear()
        from_the_file = shop.load("stores.Product", product)
        assert (from_the_file.state(), from_the_file.stream_id, from_the_file.version) == (
            cached.state(),
            cached.stream_id,
            cached.version,
        )


def test_a_basket_changed_and_not_saved_leaves_the_cached_items_alone():
    """Basket items are a dict changed in place: a loaded copy must not share it."""
    with MallBots.in_memory(aggregate_cache=100) as shop:
        store = shop.execute(CreateStore("Waldorf Widgets", "Level 1"))
        shop.execute(EnableParticipation(store))
        widget = shop.execute(AddProduct(store, "Widget", "9.99", "A widget", "W-1"))
        customer = shop.execute(RegisterCustomer("Ada", "555-0100"))
        basket_id = shop.execute(StartBasket(customer))
        shop.execute(AddItem(basket_id, widget, 2))
        saved = shop.load("baskets.Basket", basket_id).state()

        basket = shop.load("baskets.Basket", basket_id)
        basket.add_item(shop.load("stores.Store", store), shop.load("stores.Product", widget), 3)
        basket.items.clear()  # and by hand, for good measure
        assert shop.load("baskets.Basket", basket_id).state() == saved
        assert saved["items"][widget].quantity == 2
