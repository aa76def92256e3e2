"""The rules across modules: a shop run one command at a time keeps every one; each
planted break (a command cut short, a row lost from a plain table) is reported where it
is, and nowhere else."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mallbots import DomainError, MallBots
from mallbots.adapters import order_id_for_basket
from mallbots.depot import CancelShoppingList
from mallbots.es import Database
from mallbots.es.duckdb.check import BAD_JSON
from mallbots.ordering import CompleteOrder, GetOrder
from mallbots.payments import (
    AuthorizePayment,
    CancelInvoice,
    ConfirmPayment,
    CreateInvoice,
    GetOrderInvoices,
)
from mallbots.shop_check import (
    BASKET_WITHOUT_ORDER,
    CANCELLED_ORDER_LIST_OPEN,
    INVOICE_WITHOUT_PAYMENT,
    ORDER_NOT_OF_BASKET,
    ORDER_WITHOUT_CHECKOUT,
    ORDER_WITHOUT_CUSTOMER,
    ORDER_WITHOUT_NOTIFICATION,
    ORDER_WITHOUT_PAYMENT,
    ORDER_WITHOUT_SHOPPING_LIST,
    PAID_INVOICE_ORDER_OPEN,
    PLAIN_TABLES,
    READIED_ORDER_WITHOUT_INVOICE,
    check_shop,
)
from mallbots.simulator import PRESETS, simulate
from tests.reliability.figures import count
from tests.reliability.small_mall import SmallMall, fill_small_mall
from tests.shop_scripts import run_script, scripts

EVERY_RULE = 11


@pytest.fixture
def mall(db) -> tuple[MallBots, SmallMall]:
    shop = MallBots(db)
    return shop, fill_small_mall(shop)


def found(shop: MallBots) -> set[tuple[str, str]]:
    return {(p.kind, p.stream_id) for p in check_shop(shop.database).problems}


def test_a_shop_run_command_by_command_keeps_every_rule(mall):
    shop, orders = mall
    report = check_shop(shop.database)
    assert report.ok, str(report)
    assert len(report.invariants) == EVERY_RULE and not report.notes
    assert len(orders.orders) == 12


def test_the_uuid5_in_sql_derives_the_order_id_of_every_basket(mall):
    shop, orders = mall
    for order_id, basket_id in orders.baskets.items():
        assert order_id_for_basket(basket_id) == order_id
    # an order whose checkout was lost is found through the id derived in SQL alone
    basket = orders.baskets[orders.pending[0]]
    shop.database.execute(
        "DELETE FROM baskets.events WHERE stream_id = $1 AND event_name = $2",
        [basket, "baskets.BasketCheckedOut"],
    )
    assert found(shop) == {(ORDER_WITHOUT_CHECKOUT, orders.pending[0])}


def test_every_planted_break_is_reported_and_only_there(mall):
    shop, o = mall
    db = shop.database

    def sql(statement: str, *parameters) -> None:
        db.execute(statement, list(parameters))

    def order_of(basket: str) -> str:
        return order_id_for_basket(basket)

    # a bulk batch cut mid-command: BasketCheckedOut committed, OrderCreated not
    split = o.pending[0]
    sql("DELETE FROM ordering.events WHERE stream_id = $1", split)
    # an order whose shopping list, payment, customer or notification row was lost
    no_list, no_payment, no_customer = o.pending[1], o.pending[2], o.cancelled[0]
    sql(
        "DELETE FROM depot.shopping_lists WHERE order_id = $1",
        no_list,
    )
    sql(
        "UPDATE payments.payments SET status = 'authorized' WHERE id = "
        "(SELECT event_data->>'payment_id' FROM ordering.events WHERE stream_id = $1 "
        "AND event_name = 'ordering.OrderCreated')",
        no_payment,
    )
    sql(
        "DELETE FROM customers.customers WHERE id = (SELECT event_data->>'customer_id' "
        "FROM ordering.events WHERE stream_id = $1 AND event_name = 'ordering.OrderCreated')",
        no_customer,
    )
    sql(
        "DELETE FROM notifications.notifications WHERE order_id = $1 AND kind = 'order_ready'",
        o.readied[0],
    )
    # a cancelled order whose list is open again; a readied order without its invoice
    sql(
        "UPDATE depot.shopping_lists SET status = 'available' WHERE order_id = $1",
        o.cancelled[1],
    )
    sql("DELETE FROM payments.invoices WHERE order_id = $1", o.readied[1])
    # an invoice paid without its order completed; an invoice whose payment is gone
    sql("UPDATE payments.invoices SET status = 'paid' WHERE order_id = $1", o.readied[2])
    (lost_payment_invoice,) = db.execute(
        "SELECT id FROM payments.invoices WHERE order_id = $1", [o.completed[0]]
    ).fetchone()
    sql(
        "DELETE FROM payments.payments WHERE id = "
        "(SELECT payment_id FROM payments.invoices WHERE id = $1)",
        lost_payment_invoice,
    )
    (paid_invoice,) = db.execute(
        "SELECT id FROM payments.invoices WHERE order_id = $1", [o.readied[2]]
    ).fetchone()
    # an order whose payment differs from its basket's checkout
    sql(
        "UPDATE ordering.events SET event_data = json_object('customer_id', "
        "event_data->>'customer_id', 'payment_id', 'someone-else', 'shopping_id', "
        "event_data->>'shopping_id', 'items', event_data->'items')::VARCHAR "
        "WHERE stream_id = $1 AND event_name = 'ordering.OrderCreated'",
        o.completed[1],
    )
    split_basket = o.baskets[split]
    assert order_of(split_basket) == split

    assert found(shop) == {
        (BASKET_WITHOUT_ORDER, split_basket),
        (ORDER_WITHOUT_SHOPPING_LIST, no_list),
        (ORDER_WITHOUT_PAYMENT, no_payment),
        (ORDER_WITHOUT_CUSTOMER, no_customer),
        (ORDER_WITHOUT_NOTIFICATION, o.readied[0]),
        (CANCELLED_ORDER_LIST_OPEN, o.cancelled[1]),
        (READIED_ORDER_WITHOUT_INVOICE, o.readied[1]),
        (PAID_INVOICE_ORDER_OPEN, paid_invoice),
        (INVOICE_WITHOUT_PAYMENT, lost_payment_invoice),
        (ORDER_WITHOUT_PAYMENT, o.completed[0]),  # its payment row is gone too
        (ORDER_NOT_OF_BASKET, o.completed[1]),
        (ORDER_WITHOUT_PAYMENT, o.completed[1]),  # 'someone-else' is no payment
    }
    report = check_shop(shop.database)
    text = str(report)
    assert f"{BASKET_WITHOUT_ORDER}: baskets.events: baskets.Basket '{split_basket}'" in text
    assert "its checkout committed, its order not" in text
    assert "SELECT" not in text
    count("cross-module breaks planted", 11)
    count("cross-module problems reported", len(report.problems))


def test_a_bulk_file_keeps_every_rule_and_a_split_command_is_seen(tmp_path):
    shop, _ = simulate(
        PRESETS["classroom"].with_changes(max_events=3000), tmp_path / "bulk.duckdb", progress=False
    )
    with shop:
        report = check_shop(shop.database)
        assert report.ok and len(report.invariants) == 11  # bulk runs fill every module
        for table in PLAIN_TABLES:  # emptied, as an older bulk run left them
            shop.database.execute(f"DELETE FROM {table}")
        report = check_shop(shop.database)
        assert report.ok and len(report.invariants) == 3
        assert "keep no plain rows" in str(report)
        (order_id,) = shop.database.execute(
            "SELECT stream_id FROM ordering.events WHERE event_name = 'ordering.OrderCreated' "
            "ORDER BY position DESC LIMIT 1"
        ).fetchone()
        shop.database.execute("DELETE FROM ordering.events WHERE stream_id = $1", [order_id])
        (problem,) = check_shop(shop.database).problems
    assert problem.kind == BASKET_WITHOUT_ORDER
    assert order_id_for_basket(problem.stream_id) == order_id


def test_rules_over_archived_orders_read_the_archive_too(mall):
    shop, o = mall
    db: Database = shop.database
    db.execute("CREATE TABLE ordering.events_archive AS FROM ordering.events WITH NO DATA")
    db.execute(
        "INSERT INTO ordering.events_archive SELECT * FROM ordering.events WHERE stream_id = $1",
        [o.completed[0]],
    )
    db.execute("DELETE FROM ordering.events WHERE stream_id = $1", [o.completed[0]])
    assert check_shop(db).ok


SIDE_DOORS = st.lists(
    st.tuples(
        st.sampled_from(
            ["cancel_invoice", "complete_order", "confirm_payment", "cancel_list", "invoice"]
        ),
        st.integers(0, 9),
    ),
    max_size=6,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=scripts, doors=SIDE_DOORS)
def test_no_rule_is_broken_by_any_script_of_commands_the_shop_accepts(script, doors):
    """The rules are what the shop promises: random commands, refused ones included, and
    the modules' own commands run alone (a side door into another module's work), never
    break one."""
    with MallBots.in_memory(seed=3) as shop:
        ids = run_script(shop, script)
        for door, a in doors:
            with contextlib.suppress(DomainError):
                _side_door(shop, ids.orders, door, a)
        report = check_shop(shop.database)
        assert report.ok, str(report)
        assert len(report.invariants) == EVERY_RULE
    count("command scripts checked across modules")


def _side_door(shop: MallBots, orders: list[str], door: str, a: int) -> None:
    run = shop.execute
    if not orders:
        return
    order = shop.execute(GetOrder(orders[a % len(orders)]))
    invoices = run(GetOrderInvoices(order.id))
    if door == "cancel_invoice" and invoices:
        run(CancelInvoice(invoices[-1].id))
    elif door == "complete_order":
        run(CompleteOrder(order.id, f"made-up-invoice-{a}"))
    elif door == "confirm_payment":
        payment = run(AuthorizePayment(order.customer_id, "5.00"))
        run(ConfirmPayment(payment, order.customer_id, "1.00"))
    elif door == "cancel_list":
        run(CancelShoppingList(order.shopping_id))
    elif door == "invoice":
        run(CreateInvoice(order.id, order.payment_id, "1.00"))


def test_an_event_whose_data_is_not_json_is_named_once_and_every_rule_still_runs(mall):
    shop, o = mall
    shop.database.execute(
        "UPDATE ordering.events SET event_data = '{\"customer_id\": ' "
        "WHERE stream_id = $1 AND stream_version = 1",
        [o.completed[0]],
    )
    shop.database.execute(
        "UPDATE baskets.events SET event_data = '{' "
        "WHERE stream_id = $1 AND event_name = 'baskets.BasketCheckedOut'",
        [o.baskets[o.pending[0]]],
    )
    report = check_shop(shop.database)
    assert report.notes == [] and len(report.invariants) == EVERY_RULE
    assert {(p.kind, p.stream_id) for p in report.problems} == {
        (BAD_JSON, o.completed[0]),
        (BAD_JSON, o.baskets[o.pending[0]]),
    }
