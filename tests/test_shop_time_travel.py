"""Time travel on the shop: every real aggregate, at every version it had, across closed books."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings

from mallbots import MallBots
from mallbots.es import AggregateNotFoundError
from mallbots.stores import AddProduct, CloseProductBooks, CreateStore, IncreaseProductPrice
from tests.shop_scripts import GRAND_TOUR, published, run_script, scripts


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=scripts)
@example(script=GRAND_TOUR)
def test_time_travel_gives_each_aggregate_the_state_it_had_at_each_version(script):
    with MallBots.in_memory(seed=4) as shop:
        events = published(shop)
        lives: Counter = Counter()  # events per aggregate so far: its version over its life
        seen: dict = {}  # (stream name, id, version) -> (moment, stream version, state)

        def remember_what_changed() -> None:
            fresh = events[sum(lives.values()) :]
            for event in sorted(fresh, key=lambda e: e.position):
                lives[(event.aggregate_name, event.aggregate_id)] += 1
            for name, aggregate_id in {(e.aggregate_name, e.aggregate_id) for e in fresh}:
                live = shop.load(name, aggregate_id)  # as the repository loads it: the live state
                last = max(e.occurred_at for e in fresh if e.aggregate_id == aggregate_id)
                version = lives[(name, aggregate_id)]
                seen[(name, aggregate_id, version)] = (last, live.version, live.state())

        run_script(shop, script, after=remember_what_changed)
        shop.archive_closed_streams()  # the past is read from the archive as well
        for (name, aggregate_id, version), (moment, stream_version, state) in seen.items():
            by_version = shop.aggregate_at(name, aggregate_id, version=version)
            assert (by_version.version, by_version.state()) == (stream_version, state)
            by_moment = shop.aggregate_at(name, aggregate_id, at=moment)
            assert by_moment.state() == state


@pytest.fixture
def product_with_closed_books():
    with MallBots.in_memory(seed=8) as shop:
        store = shop.execute(CreateStore("Bits", "Level 1"))
        product = shop.execute(AddProduct(store, "Widget", "1.00", "A widget", "W-1"))
        for price in ("2.00", "3.00"):
            shop.execute(IncreaseProductPrice(product, price))
        shop.execute(CloseProductBooks(product))
        shop.execute(IncreaseProductPrice(product, "4.00"))
        yield shop, product


def test_the_history_runs_across_closed_books_version_by_version(product_with_closed_books):
    shop, product = product_with_closed_books
    history = shop.history("stores.Product", product)
    assert history["version"].tolist() == [1, 2, 3, 4, 5, 6]
    assert history["stream_version"].tolist() == [1, 2, 3, 4, 1, 2]
    assert history["event"].tolist() == [
        "stores.ProductAdded",
        "stores.ProductPriceIncreased",
        "stores.ProductPriceIncreased",
        "stores.ProductBooksClosed",
        "stores.ProductBooksOpened",
        "stores.ProductPriceIncreased",
    ]
    assert history["price"].tolist() == [
        Decimal(p) for p in ["1.00", "2.00", "3.00", "3.00", "3.00", "4.00"]
    ]
    assert history["position"].is_monotonic_increasing
    assert shop.aggregate_at("stores.Product", product, version=5).price == Decimal("3.00")


def test_a_moment_before_an_aggregate_existed_is_not_found(product_with_closed_books):
    shop, product = product_with_closed_books
    first = shop.history("stores.Product", product)["occurred_at"][0]
    with pytest.raises(AggregateNotFoundError):
        shop.aggregate_at("stores.Product", product, at=first - timedelta(seconds=1))
    with pytest.raises(KeyError, match="no stream type"):
        shop.aggregate_at("stores.Widget", product)


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"version": 0}, "version must be a whole number of at least 1, not 0"),
        ({"version": "2"}, "version must be a whole number of at least 1, not '2'"),
        ({"at": datetime(2030, 1, 1)}, "must be a timezone-aware datetime"),
        ({"version": 1, "at": datetime(2030, 1, 1, tzinfo=UTC)}, "a version or a moment"),
    ],
)
def test_time_travel_refuses_a_version_or_moment_it_cannot_honour(
    product_with_closed_books, arguments, problem
):
    shop, product = product_with_closed_books
    with pytest.raises(ValueError, match=problem):
        shop.aggregate_at("stores.Product", product, **arguments)


@pytest.mark.parametrize("position", [-1, "3", 2.5])
def test_a_read_model_at_a_position_that_is_not_one_is_refused(position):
    with MallBots.in_memory(seed=9) as shop, pytest.raises(ValueError, match="position must"):
        shop.read_model_at("stores.stores", position)


def test_a_read_model_as_it_stood_at_each_position():
    tables = ("stores.products", "reporting.store_sales", "reporting.customer_history")
    with MallBots.in_memory(seed=9) as shop:
        stood = {}

        def remember() -> None:
            stood[shop.log.head()] = {table: shop.read_model(table) for table in tables}

        run_script(shop, GRAND_TOUR, after=remember)
        for position, frames in list(stood.items())[::5]:  # every fifth moment is plenty
            for table, frame in frames.items():
                assert shop.read_model_at(table, position).equals(frame), (table, position)
        by_projection = shop.read_model_at("reporting.sales", shop.log.head())
        assert set(by_projection) == {"reporting.store_sales", "reporting.sales_lines"}
        assert shop.read_model_at("stores.stores", 0).empty
        with pytest.raises(KeyError, match="no read model"):
            shop.read_model_at("stores.secrets", 1)
