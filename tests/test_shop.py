"""The whole shop: an end-to-end run, reloads, rebuilds, snapshots and determinism."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pytest

from mallbots import DomainError, MallBots
from mallbots.app import shop_registry
from mallbots.baskets import AddItem, CancelBasket, CheckoutBasket, RemoveItem, StartBasket
from mallbots.customers import DisableCustomer, RegisterCustomer
from mallbots.demo import run_demo
from mallbots.errors import InvalidInputError
from mallbots.es import AggregateEvent, Database, EventStore, HandlerError, Registry
from mallbots.es.snapshots import never
from mallbots.ordering import CancelOrder, GetOrder, OrderStatus, ReadyOrder
from mallbots.payments import AuthorizePayment, GetOrderInvoices, PayInvoice
from mallbots.reporting import GetCustomerHistory
from mallbots.stores import (
    AddProduct,
    CreateStore,
    DecreaseProductPrice,
    DisableParticipation,
    EnableParticipation,
    GetCatalog,
    GetProduct,
    GetStore,
    IncreaseProductPrice,
    RebrandProduct,
    RebrandStore,
    RemoveProduct,
)

ISSUE_MESSAGES = """
    CreateStore EnableParticipation DisableParticipation RebrandStore AddProduct
    RebrandProduct IncreaseProductPrice DecreaseProductPrice RemoveProduct
    GetStore GetStores GetParticipatingStores GetCatalog GetProduct
    StartBasket AddItem RemoveItem CancelBasket CheckoutBasket GetBasket
    CreateOrder CancelOrder ReadyOrder CompleteOrder GetOrder
    RegisterCustomer AuthorizeCustomer EnableCustomer DisableCustomer GetCustomer
    AuthorizePayment ConfirmPayment CreateInvoice PayInvoice CancelInvoice
    CreateShoppingList CancelShoppingList GetShoppingList GetNotifications
"""


def busy_day(shop: MallBots) -> dict[str, str]:
    """The demo, then more of everything: refusals, cancellations, a second order."""
    ids = run_demo(shop)
    run = shop.execute
    widgets, tea = ids.stores
    sprocket, gizmo, teapot = ids.products
    run(RebrandStore(tea, "Teapot Palace"))
    run(RebrandProduct(gizmo, "Gizmo II", "Does even more"))
    for price in ("5.00", "5.25", "6.00"):
        run(IncreaseProductPrice(sprocket, price))
    run(DecreaseProductPrice(sprocket, "5.50"))
    run(RemoveProduct(teapot))
    run(DisableParticipation(widgets))
    run(EnableParticipation(widgets))
    cups = run(AddProduct(tea, "Cups", "3.10", "A set of two", "CUP-2"))
    bob = run(RegisterCustomer("Bob", "555-0101"))
    payment = run(AuthorizePayment(bob, "40.00"))
    given_up = run(StartBasket(bob))
    run(AddItem(given_up, cups, 2))
    run(CancelBasket(given_up))
    basket = run(StartBasket(bob))
    for product, quantity in ((cups, 4), (sprocket, 1), (gizmo, 1), (cups, 1)):
        run(AddItem(basket, product, quantity))
    run(RemoveItem(basket, cups, 2))
    with pytest.raises(DomainError):  # 3 cups, a sprocket and a gizmo cost 26.80: too much
        run(CheckoutBasket(basket, run(AuthorizePayment(bob, "20.00"))))
    order = run(CheckoutBasket(basket, payment))
    cancelled_basket = run(StartBasket(ids.customer))
    run(AddItem(cancelled_basket, cups, 1))
    cancelled = run(CheckoutBasket(cancelled_basket, run(AuthorizePayment(ids.customer, "5"))))
    run(CancelOrder(cancelled))
    run(ReadyOrder(order))
    (invoice,) = run(GetOrderInvoices(order))
    run(PayInvoice(invoice.id))
    run(DisableCustomer(bob))
    return {"order": order, "cancelled": cancelled, "demo_order": ids.order, "tea": tea}


def tables_of(shop: MallBots) -> dict[str, list[tuple]]:
    return {
        table: shop.database.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
        for table in shop.tables
    }


def test_a_busy_day_end_to_end_reloads_and_rebuilds_to_what_ran_live(tmp_path):
    path = tmp_path / "mall.duckdb"
    shop = MallBots.open(path, seed=11)
    committed = []
    shop.dispatcher.subscribe(  # events as they happened, kept only once their command commits
        lambda event: shop.database.after_commit(lambda: committed.append(event))
    )
    ids = busy_day(shop)

    run = shop.execute
    assert run(GetOrder(ids["order"])).status is OrderStatus.COMPLETED
    assert run(GetOrder(ids["order"])).total == Decimal("26.80")
    assert run(GetOrder(ids["cancelled"])).status is OrderStatus.CANCELLED
    assert run(GetOrder(ids["demo_order"])).status is OrderStatus.COMPLETED
    assert [p.name for p in run(GetCatalog(ids["tea"]))] == ["Cups"]
    # a cascade (checkout -> order) reaches this handler inner event first: sort by position
    committed.sort(key=lambda event: event.position)
    assert [e.position for e in committed] == list(range(1, shop.log.count() + 1))

    # every aggregate, loaded from its snapshot and newer events, equals the live one
    streams = defaultdict(list)
    for event in committed:
        streams[(event.aggregate_name, event.aggregate_id)].append(event)
    assert {name for name, _ in streams} == {
        "stores.Store",
        "stores.Product",
        "baskets.Basket",
        "ordering.Order",
    }
    snapshots = {
        (name, stream_id): version
        for schema in ("stores", "baskets", "ordering")
        for stream_id, name, version in shop.database.execute(
            f"SELECT stream_id, stream_name, stream_version FROM {schema}.snapshots"
        ).fetchall()
    }
    for (name, aggregate_id), events in streams.items():
        live = shop.repositories[name].new(aggregate_id)
        for event in events:
            live.load_event(event)
        loaded = shop.load(name, aggregate_id)
        assert (loaded.version, loaded.state()) == (live.version, live.state())
        every_third = len(events) // 3 * 3  # one event per command: one snapshot per 3
        assert snapshots.get((name, aggregate_id), 0) == every_third
    assert sum(1 for version in snapshots.values() if version) >= 5

    # every read model rebuilt from the log equals what the live run produced
    live_tables = tables_of(shop)
    assert shop.projector.rebuild() > 0
    assert tables_of(shop) == live_tables

    # and the file holds it all: a new process sees the same shop
    shop.close()
    with MallBots.open(path) as reopened:
        assert tables_of(reopened) == live_tables
        assert reopened.projector.status()["lag"].tolist() == [0, 0, 0, 0]
        assert reopened.execute(GetOrder(ids["order"])).status is OrderStatus.COMPLETED


def snapshot_of(shop: MallBots, store_id: str):
    return shop.database.execute(
        "SELECT stream_version, snapshot_name FROM stores.snapshots WHERE stream_id = $1",
        [store_id],
    ).fetchone()


def test_snapshots_follow_their_cadence_and_loads_use_them(tmp_path):
    with MallBots.open(tmp_path / "snap.duckdb", seed=2, snapshot_every=3) as shop:
        store = shop.execute(CreateStore("Cadence", "Level 3"))
        shop.execute(EnableParticipation(store))
        assert snapshot_of(shop, store) is None
        shop.execute(DisableParticipation(store))
        assert snapshot_of(shop, store) == (3, "stores.StoreV1")
        shop.execute(RebrandStore(store, "Cadence II"))
        shop.execute(EnableParticipation(store))
        assert snapshot_of(shop, store) == (3, "stores.StoreV1")
        shop.execute(RebrandStore(store, "Cadence III"))
        assert snapshot_of(shop, store) == (6, "stores.StoreV1")
        shop.execute(DisableParticipation(store))  # version 7: after the snapshot

        # a load starts from the snapshot: doctor it, and the load shows the doctored name
        shop.database.execute(
            "UPDATE stores.snapshots SET snapshot_data = "
            "replace(snapshot_data, 'Cadence III', 'From the snapshot') WHERE stream_id = $1",
            [store],
        )
        loaded = shop.load("stores.Store", store)
        assert (loaded.name, loaded.participating, loaded.version) == (
            "From the snapshot",
            False,
            7,
        )
        shop.database.execute("DELETE FROM stores.snapshots WHERE stream_id = $1", [store])
        assert shop.load("stores.Store", store).name == "Cadence III"


@pytest.mark.parametrize("where", ["file", "memory"])
def test_open_and_in_memory_take_the_same_options(tmp_path, where):
    """One set of options: a snapshot strategy reaches a file's shop as a memory one's."""
    options = {"seed": 3, "snapshot_strategy": never, "aggregate_cache": 10}
    if where == "file":
        shop = MallBots.open(tmp_path / "options.duckdb", **options)
    else:
        shop = MallBots.in_memory(**options)
    with shop:
        store = shop.execute(CreateStore("Never", "Level 1"))
        for _ in range(4):
            shop.execute(EnableParticipation(store))
            shop.execute(DisableParticipation(store))
        assert snapshot_of(shop, store) is None
        assert shop.aggregate_cache is not None
        assert store == MallBots.in_memory(seed=3).ids()  # seeded alike


def test_the_same_seed_and_script_give_the_same_log_and_tables():
    runs = []
    for _ in range(2):
        with MallBots.in_memory(seed=5) as shop:
            busy_day(shop)
            runs.append((shop.log_frame(), tables_of(shop)))
    (first_log, first_tables), (second_log, second_tables) = runs
    assert first_log.equals(second_log)
    assert first_tables == second_tables
    assert first_log["position"].tolist() == list(range(1, len(first_log) + 1))
    assert first_log["occurred_at"].is_monotonic_increasing


def test_another_seed_gives_other_ids():
    with MallBots.in_memory(seed=5) as one, MallBots.in_memory(seed=6) as other:
        assert run_demo(one).order != run_demo(other).order


def test_a_seeded_file_reopened_continues_without_repeating_ids(tmp_path):
    logs = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.duckdb"
        for _ in range(2):
            with MallBots.open(path, seed=3) as shop:
                run_demo(shop)
        with MallBots.open(path) as shop:
            frame = shop.log_frame()
            assert frame["event_id"].is_unique
            assert frame["occurred_at"].is_monotonic_increasing
            logs.append(frame)
    assert logs[0].equals(logs[1])


def test_seeded_sessions_that_keep_the_row_count_still_draw_new_ids(tmp_path):
    """Removing a product records an event and deletes its catalog row: rows stay put."""
    path = tmp_path / "mall.duckdb"
    with MallBots.open(path, seed=1) as shop:
        store = shop.execute(CreateStore("A", "L"))
        products = [shop.execute(AddProduct(store, name, "1.00")) for name in ("W", "V")]
    for product in products:
        with MallBots.open(path, seed=1) as shop:
            shop.execute(RemoveProduct(product))  # refused as a repeated event id before
    with MallBots.open(path) as shop:
        assert shop.log_frame()["event_id"].is_unique
        assert shop.log.count() == 5


def test_the_shop_registry_is_what_its_event_sourced_modules_register(shop):
    """The log (and mallbots check) decode with it; the modules' stores write with theirs."""

    def described(registry):
        return {
            name: (r.payload_type, r.kind, r.version, sorted(r.upcasters))
            for name in registry.names()
            for r in [registry.registration(name)]
        }

    modules = [shop.stores.registry, shop.baskets.registry, shop.ordering.registry]
    assert described(shop_registry()) == described(modules[0].merge(modules[1:]))
    assert described(shop.registry) == described(shop_registry())


@pytest.mark.parametrize(
    ("query", "what"),
    [
        (GetStore(5), "store id"),
        (GetProduct(5), "product id"),
        (GetCatalog(5), "store id"),
        (GetCustomerHistory(5), "customer id"),
    ],
)
def test_a_query_for_an_id_that_is_not_text_says_so(shop, query, what):
    """Not DuckDB's conversion error: the read models hold rows it would try to cast."""
    with pytest.raises(InvalidInputError, match=f"the {what} must be text, not int 5"):
        shop.execute(query)


@pytest.mark.parametrize(("after", "limit"), [(-1, None), ("x", None), (0, -1), (0, 1.5)])
def test_the_log_frame_refuses_positions_and_limits_that_are_not_counts(shop, after, limit):
    with pytest.raises(ValueError, match="must be a whole number of at least 0"):
        shop.log_frame(after_position=after, limit=limit)


def test_the_log_frame_takes_numpy_counts(shop):
    frame = shop.log_frame()
    assert shop.log_frame(frame["position"].iloc[2], limit=np.int64(2)).equals(
        frame.iloc[3:5].reset_index(drop=True)
    )


def test_a_shop_on_a_read_only_database_is_refused_with_what_to_do_instead(tmp_path):
    path = tmp_path / "mall.duckdb"
    MallBots.open(path).close()
    with Database.open(path, read_only=True) as database:
        with pytest.raises(ValueError, match=r"read-only.*Open the file read-write"):
            MallBots(database)
        assert not database.closed  # the caller's to close, and still readable
        assert database.execute("SELECT count(*) FROM stores.events").fetchone() == (0,)


def test_two_shops_opened_on_one_file_take_turns_and_keep_one_read_model(tmp_path):
    path = tmp_path / "mall.duckdb"
    first = MallBots.open(path)
    second = MallBots.open(path)  # the same file in the same process: the same database
    assert second.database is first.database
    store = first.execute(CreateStore("Widgets", "Level 1"))
    product = second.execute(AddProduct(store, "Sprocket", "4.00", "A fine one", "SPR-1"))
    for n, price in enumerate(("4.50", "5.10", "5.75", "6.00")):
        (first, second)[n % 2].execute(IncreaseProductPrice(product, price))
    for shop in (first, second):
        assert shop.execute(GetProduct(product)).price == Decimal("6.00")
    live = tables_of(first)
    first.projector.rebuild()
    assert tables_of(first) == live
    first.close()  # closes the database both shops share: the other says so plainly
    with pytest.raises(RuntimeError, match="is closed"):
        second.execute(GetProduct(product))
    assert repr(second).endswith("mall.duckdb', closed)")


def test_execute_routes_every_command_and_query_of_the_modules(shop):
    names = {message.__name__ for message in shop.message_types}
    assert names >= set(ISSUE_MESSAGES.split())
    with pytest.raises(TypeError, match="no module handles str"):
        shop.execute("CreateStore")


def test_a_snapshot_strategy_can_be_injected_into_the_shop():
    from mallbots.stores import Product

    def products_only(aggregate) -> bool:
        return isinstance(aggregate, Product)

    with MallBots.in_memory(seed=1, snapshot_strategy=products_only) as shop:
        store = shop.execute(CreateStore("Bits", "Level 3"))
        shop.execute(EnableParticipation(store))
        shop.execute(RebrandStore(store, "Bits & Bobs"))
        assert shop.read_model("stores.snapshots").empty  # EveryNEvents(3) would take one
        shop.execute(AddProduct(store, "Bolt", "0.10", product_id="bolt"))
        assert shop.read_model("stores.snapshots")["stream_id"].tolist() == ["bolt"]


def test_command_types_are_the_messages_that_write(shop):
    commands = {message.__name__ for message in shop.command_types}
    assert {
        "CreateStore",
        "AddItem",
        "CheckoutBasket",
        "RegisterCustomer",
        "PayInvoice",
    } <= commands
    assert not {name for name in commands if name.startswith("Get")}
    queries = {message.__name__ for message in shop.message_types} - commands
    assert queries == {name for name in queries if name.startswith("Get")} and queries


def test_streams_the_log_and_tables_are_frames(shop, world):
    stream = shop.stream_frame("baskets.Basket", world.basket)
    assert stream["event_name"].tolist() == ["baskets.BasketStarted", "baskets.BasketItemAdded"]
    assert len(shop.log_frame()) == shop.log.count()
    products = shop.read_model("stores.products")
    assert sorted(products["price"]) == [Decimal("2.50"), Decimal("9.99")]  # exact, not floats
    assert set(shop.tables) >= {"stores.events", "stores.snapshots", "customers.customers"}
    with pytest.raises(KeyError, match=r"no table 'stores\.secrets'"):
        shop.read_model("stores.secrets")
    with pytest.raises(KeyError, match=r"no stream type 'stores\.Mall'"):
        shop.stream_frame("stores.Mall", "x")


def test_a_command_whose_read_model_fails_says_it_was_rolled_back_and_stores_nothing():
    with MallBots.in_memory(seed=8) as shop:
        store = shop.execute(CreateStore("Bits", "Level 1"))
        product = shop.execute(AddProduct(store, "Widget", "1.00"))
        foreign = Registry()  # another tool's ProductAdded, which the catalog cannot read
        foreign.register_event("stores.ProductAdded", Foreign)
        odd = AggregateEvent(
            "00000000-0000-4000-8000-000000000001",
            "stores.ProductAdded",
            Foreign(1.0),
            shop.clock(),
            "stores.Product",
            "odd",
            1,
        )
        EventStore(shop.database, foreign, "stores.events").append(
            "stores.Product", "odd", 0, [odd]
        )
        events = shop.log.count()
        with pytest.raises(HandlerError, match="nothing was stored: the command's transaction"):
            shop.execute(IncreaseProductPrice(product, "2.00"))
        assert shop.log.count() == events
        assert shop.load("stores.Product", product).price == Decimal("1.00")


@dataclass(frozen=True)
class Foreign:
    Price: float


def test_open_and_in_memory_have_the_same_defaults():
    """One set of options with one set of defaults: neither is seeded unless asked."""
    import inspect

    opened = inspect.signature(MallBots.open).parameters
    in_memory = inspect.signature(MallBots.in_memory).parameters
    shared = [name for name in in_memory if name != "cls"]
    assert shared == ["seed", "snapshot_every", "snapshot_strategy", "aggregate_cache"]
    assert {name: opened[name].default for name in shared} == {
        name: in_memory[name].default for name in shared
    }
    assert in_memory["seed"].default is None
