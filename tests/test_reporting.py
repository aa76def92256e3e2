"""Read models fed by more than one module: a customer's history and sales per store."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mallbots import MallBots
from mallbots.adapters import order_id_for_basket
from mallbots.baskets import AddItem, CancelBasket, CheckoutBasket, StartBasket
from mallbots.baskets.status import BasketStatus
from mallbots.customers import RegisterCustomer
from mallbots.es import AggregateEvent, Database
from mallbots.ordering import CancelOrder, OrderStatus, ReadyOrder
from mallbots.ordering.events import (
    ORDER_CANCELED,
    ORDER_CREATED,
    OrderCanceled,
    OrderCreated,
    OrderItem,
)
from mallbots.payments import AuthorizePayment, GetOrderInvoices, PayInvoice
from mallbots.reporting import GetCustomerHistory, GetStoreSales
from mallbots.reporting.history import CustomerHistoryProjection
from mallbots.reporting.sales import STORE_COLUMNS, StoreSalesProjection
from mallbots.stores import AddProduct, CreateStore, RebrandStore
from mallbots.stores.events import STORE_CREATED, StoreCreated
from tests.es_support import Balances
from tests.test_books import read_models


@pytest.fixture
def shop():
    """Two stores, one customer: a basket given up, an order paid, an order cancelled."""
    with MallBots.in_memory(seed=21) as shop:
        run = shop.execute
        tea = run(CreateStore("Tea House", "Level 1", store_id="tea"))
        run(CreateStore("Gadgets", "Level 2", store_id="gadgets"))
        cup = run(AddProduct(tea, "Cup", "3.10", product_id="cup"))
        pot = run(AddProduct(tea, "Pot", "20.00", product_id="pot"))
        run(RegisterCustomer("Ada", "555-0100", customer_id="ada"))
        given_up = run(StartBasket("ada", basket_id="b1"))
        run(AddItem(given_up, cup, 1))
        run(CancelBasket(given_up))
        for basket, quantity in (("b2", 3), ("b3", 1)):
            run(StartBasket("ada", basket_id=basket))
            run(AddItem(basket, cup, quantity))
            run(AddItem(basket, pot, 1))
        paid = run(CheckoutBasket("b2", run(AuthorizePayment("ada", "100.00"))))
        cancelled = run(CheckoutBasket("b3", run(AuthorizePayment("ada", "100.00"))))
        run(ReadyOrder(paid))
        run(PayInvoice(run(GetOrderInvoices(paid))[0].id))
        run(CancelOrder(cancelled))
        run(RebrandStore(tea, "Tea Palace"))
        yield shop


def test_a_customers_history_follows_baskets_and_the_orders_they_became(shop):
    history = shop.execute(GetCustomerHistory("ada"))
    assert history.equals(shop.customer_history("ada"))
    columns = history[["kind", "id", "status", "items", "total"]].astype(object)
    rows = columns.where(columns.notna(), None).to_dict("records")
    orders = {row["id"]: row for row in rows if row["kind"] == "order"}
    assert [row for row in rows if row["kind"] == "basket"] == [
        {"kind": "basket", "id": "b1", "status": "canceled", "items": None, "total": None},
        {
            "kind": "basket",
            "id": "b2",
            "status": "checked_out",
            "items": 4,
            "total": Decimal("29.30"),
        },
        {
            "kind": "basket",
            "id": "b3",
            "status": "checked_out",
            "items": 2,
            "total": Decimal("23.10"),
        },
    ]
    assert sorted((row["status"], row["items"], row["total"]) for row in orders.values()) == [
        ("cancelled", 2, Decimal("23.10")),
        ("completed", 4, Decimal("29.30")),
    ]
    assert history["ended_at"].notna().all()
    assert (history["ended_at"] >= history["started_at"]).all()
    assert shop.customer_history("nobody").empty


def test_sales_per_store_count_orders_and_take_cancellations_apart(shop):
    sales = shop.execute(GetStoreSales())
    assert sales.equals(shop.sales_per_store())
    assert sales.to_dict("records") == [
        {
            "store_id": "tea",
            "name": "Tea Palace",  # the store's name now, from the stores module's events
            "orders": 1,
            "quantity": 4,
            "revenue": Decimal("29.30"),
            "canceled_orders": 1,
            "canceled_quantity": 2,
            "canceled_revenue": Decimal("23.10"),
        },
        {
            "store_id": "gadgets",
            "name": "Gadgets",
            "orders": 0,
            "quantity": 0,
            "revenue": Decimal("0.00"),
            "canceled_orders": 0,
            "canceled_quantity": 0,
            "canceled_revenue": Decimal("0.00"),
        },
    ]


def test_the_reports_rebuilt_from_the_log_equal_the_live_ones(shop):
    live = read_models(shop)
    for set_based in (False, True):
        shop.projector.rebuild(["reporting.history", "reporting.sales"], set_based=set_based)
        assert read_models(shop) == live
    shop.projector.catch_up()
    shop.projector.catch_up()  # again: nothing new, nothing counted twice
    assert read_models(shop) == live


def test_a_basket_and_an_order_that_share_an_id_keep_their_own_history_rows(shop):
    run = shop.execute
    shared = order_id_for_basket("b2")  # the id of the fixture's paid order
    run(StartBasket("ada", basket_id=shared))
    run(AddItem(shared, "cup", 2))
    run(CancelBasket(shared))
    rows = shop.database.execute(
        "SELECT kind, status FROM reporting.customer_history WHERE id = $1 ORDER BY kind",
        [shared],
    ).fetchall()
    assert rows == [("basket", BasketStatus.CANCELED.value), ("order", OrderStatus.COMPLETED.value)]
    live = read_models(shop)
    shop.projector.rebuild()
    assert read_models(shop) == live


def test_find_by_must_name_a_column_of_a_composite_key():
    class ByStatus(CustomerHistoryProjection):
        find_by = "status"

    class OneColumn(Balances):
        find_by = "id"

    with MallBots.in_memory() as shop:
        for projection in (ByStatus("wrong"), OneColumn("wrong")):
            with pytest.raises(ValueError, match="find_by names a column of a composite key"):
                shop.projector.add(projection, inline=False)


# --- sales totals, moved batch by batch -------------------------------------------------

SALES_STORES = ("s1", "s2", "s3")
sales_items = st.lists(
    st.tuples(st.sampled_from(SALES_STORES), st.integers(1, 3), st.integers(0, 999)),
    min_size=1,
    max_size=4,
)
sales_steps = st.lists(
    st.one_of(
        st.tuples(st.just("create"), st.sampled_from(("o1", "o2", "o3")), sales_items),
        st.tuples(st.just("cancel"), st.sampled_from(("o1", "o2", "o3"))),
        st.tuples(st.just("name"), st.sampled_from(SALES_STORES)),
    ),
    max_size=14,
)


def sales_event(position: int, step: tuple) -> AggregateEvent:
    """The event a step stands for: an order created or cancelled, a store (re)named."""
    at = datetime(2024, 1, 1, tzinfo=UTC)
    if step[0] == "name":
        store = step[1]
        return AggregateEvent(
            f"e{position}",
            STORE_CREATED,
            StoreCreated(f"{store}#{position}", "L1"),
            at,
            "stores.Store",
            store,
            1,
        )
    if step[0] == "cancel":
        return AggregateEvent(
            f"e{position}", ORDER_CANCELED, OrderCanceled("ada"), at, "ordering.Order", step[1], 2
        )
    items = tuple(
        OrderItem(f"p{n}", store, store, "P", Decimal(cents) / 100, quantity)
        for n, (store, quantity, cents) in enumerate(step[2])
    )
    return AggregateEvent(
        f"e{position}",
        ORDER_CREATED,
        OrderCreated("ada", "pay", "list", items),
        at,
        "ordering.Order",
        step[1],
        1,
    )


def expected_sales(steps: list[tuple]) -> dict[str, tuple]:
    """Each store's totals by definition (stores with lines only): an order counts with
    the lines of its last ``OrderCreated``, apart as cancelled if an ``OrderCanceled``
    came after it."""
    lines: dict[str, list[tuple]] = {}
    canceled: dict[str, bool] = {}
    for step in steps:
        if step[0] == "cancel":
            canceled[step[1]] = step[1] in lines
        elif step[0] == "create":
            lines[step[1]], canceled[step[1]] = step[2], False
    totals: dict[str, list] = defaultdict(lambda: [0, 0, Decimal("0.00"), 0, 0, Decimal("0.00")])
    for order, items in lines.items():
        at = 3 if canceled[order] else 0
        for store in {store for store, _, _ in items}:
            totals[store][at] += 1
        for store, quantity, cents in items:
            totals[store][at + 1] += quantity
            totals[store][at + 2] += Decimal(cents) / 100 * quantity
    return {store: tuple(values) for store, values in totals.items()}


@settings(max_examples=40, deadline=None)
@given(steps=sales_steps, cuts=st.sets(st.integers(1, 13)), again=st.sets(st.integers(0, 13)))
def test_sales_totals_follow_their_lines_however_batched_or_redelivered(steps, cuts, again):
    """Totals moved by the changed lines equal totals counted from the definition; an
    event delivered twice (in the same batch or the next) changes nothing."""
    events = [sales_event(n, step) for n, step in enumerate(steps)]
    delivered = [e for n, e in enumerate(events) for _ in range(2 if n in again else 1)]
    batches = [delivered[a:b] for a, b in itertools.pairwise([0, *sorted(cuts), len(delivered)])]
    projection = StoreSalesProjection("sales_check")
    with Database.open() as database, database.transaction() as cursor:
        projection.setup(cursor)
        for batch in batches:
            projection.apply(cursor, batch)
        stored = cursor.execute(
            f"SELECT store_id, {', '.join(STORE_COLUMNS.split(', ')[2:])} FROM {projection.stores}"
        ).fetchall()
    # a store whose lines all went away (an order created again) may keep a row of zeros
    counted = {store_id: tuple(totals) for store_id, *totals in stored if any(totals)}
    assert counted == expected_sales(steps)
