"""A PostgreSQL shop's DuckDB holds copies of the server's snapshots, continuations and
plain tables, caught up with the log (see :mod:`mallbots.es.postgres.table_mirror`)."""

from __future__ import annotations

import threading

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.postgres_support import NO_PSYCOPG, frame_as_text

pytest.importorskip("psycopg", reason=NO_PSYCOPG)

from mallbots.app import MallBots
from mallbots.baskets import CheckoutBasket
from mallbots.customers import RegisterCustomer
from mallbots.es import Database
from mallbots.es.postgres import PostgresDatabase
from mallbots.es.postgres.mirror import LogMirror
from mallbots.frames import exact_frame
from mallbots.ordering import CancelOrder
from mallbots.payments import AuthorizePayment
from mallbots.stores import CloseProductBooks, IncreaseProductPrice
from mallbots.table import Table
from mallbots.viz import ChangeTracker, CommandPanel
from tests.shop_support import SEED, build_world

TRACKED = [
    "stores.snapshots",
    "stores.continuations",
    "baskets.snapshots",
    "ordering.snapshots",
    "customers.customers",
    "payments.payments",
    "payments.invoices",
    "depot.shopping_lists",
    "notifications.notifications",
]


def mirrored(shop: MallBots, table: str) -> list[list[str]]:
    return frame_as_text(exact_frame(shop.database, f"SELECT * FROM {table} ORDER BY ALL"))


def on_server(shop: MallBots, table: str) -> list[list[str]]:
    return frame_as_text(shop.server.statements().sorted_frame(table))


def busy_day(shop: MallBots) -> None:
    """Every kind of tracked write: snapshots, closed books, plain rows added and changed."""
    world = build_world(shop)
    for price in ("10.49", "10.99", "11.49", "11.99"):
        shop.execute(IncreaseProductPrice(world.widget, price))
    shop.execute(CloseProductBooks(world.gadget))
    payment = shop.execute(AuthorizePayment(world.customer, "50.00"))
    order = shop.execute(CheckoutBasket(world.basket, payment))
    shop.execute(CancelOrder(order))


def test_after_commands_the_copies_hold_what_the_server_and_a_duckdb_shop_hold(postgres_url):
    with MallBots.open(postgres_url, seed=SEED) as shop, MallBots.in_memory(seed=SEED) as duck:
        busy_day(shop)
        busy_day(duck)
        assert sorted(shop._read_side.mirror.tables.tables) == sorted(TRACKED)
        for table in TRACKED:
            assert mirrored(shop, table) == on_server(shop, table), table
            assert mirrored(shop, table) == mirrored(duck, table), table
            assert mirrored(shop, "stores.continuations")  # the books were closed
        columns = "SELECT table_name, column_name, data_type FROM information_schema.columns "
        where = "WHERE table_schema IN ('customers', 'payments', 'stores') ORDER BY ALL"
        kinds = [exact_frame(s.database, columns + where) for s in (shop, duck)]
        assert frame_as_text(kinds[0]) == frame_as_text(kinds[1])  # the same types, too


def test_another_session_s_writes_arrive_at_catch_up_and_a_rollback_never(postgres_url):
    with MallBots.open(postgres_url, seed=1) as shop, MallBots.open(postgres_url, seed=2) as other:
        customer = other.execute(RegisterCustomer("Grace", "555-0199"))  # no event: a plain row
        assert mirrored(shop, "customers.customers") == []
        shop.catch_up()
        assert [row[0] for row in mirrored(shop, "customers.customers")] == [customer]
        with psycopg.connect(postgres_url) as writer:
            writer.execute("UPDATE customers.customers SET name = 'Hopper'")
            writer.execute("DELETE FROM payments.payments")
            shop.catch_up()  # in progress: not visible, not copied
            assert mirrored(shop, "customers.customers")[0][1] == "Grace"
            writer.rollback()
            shop.catch_up()
            assert mirrored(shop, "customers.customers")[0][1] == "Grace"
            writer.execute("UPDATE customers.customers SET name = 'Hopper'")
            other.execute(RegisterCustomer("Linus", "555-0123"))  # committed meanwhile ...
            shop.catch_up()  # ... copied in a snapshot taken while the update runs ...
            writer.commit()
        shop.catch_up()  # ... copied once it committed
        assert sorted(row[1] for row in mirrored(shop, "customers.customers")) == [
            "Hopper",
            "Linus",
        ]
        other.execute(AuthorizePayment(customer, "5.00"))
        shop.catch_up()
        assert len(mirrored(shop, "payments.payments")) == 1
        other.server.execute("DELETE FROM payments.payments")
        shop.catch_up()
        assert mirrored(shop, "payments.payments") == []


def test_a_command_that_writes_only_a_plain_table_is_read_back_at_once(postgres_url):
    with MallBots.open(postgres_url, seed=1) as shop:
        customer = shop.execute(RegisterCustomer("Ada", "555-0100"))
        # no execute, no catch-up since: the command caught up after it committed
        assert shop.database.execute("SELECT id FROM customers.customers").fetchall() == [
            (customer,)
        ]


def test_a_table_truncated_or_made_again_is_emptied_in_the_copy(postgres_url):
    with MallBots.open(postgres_url, seed=SEED) as shop:
        busy_day(shop)
        shop.server.execute("TRUNCATE notifications.notifications")
        shop.ordering.snapshots.recreate_table()
        shop.catch_up()
        assert mirrored(shop, "notifications.notifications") == []
        assert mirrored(shop, "ordering.snapshots") == []
        assert mirrored(shop, "stores.snapshots") == on_server(shop, "stores.snapshots") != []


def test_a_read_model_file_reopened_takes_only_what_changed_meanwhile(postgres_url, tmp_path):
    models = tmp_path / "models.duckdb"
    with MallBots.open(postgres_url, seed=1, read_models=models) as shop:
        build_world(shop)
    with MallBots.open(postgres_url, seed=2) as other:
        other.execute(RegisterCustomer("Grace", "555-0199"))
    with MallBots.open(postgres_url, seed=3, read_models=models) as shop:
        for table in TRACKED:
            assert mirrored(shop, table) == on_server(shop, table), table
        assert len(mirrored(shop, "customers.customers")) == 2


def test_a_catch_up_when_nothing_moved_is_one_query_on_the_server(postgres_url):
    with MallBots.open(postgres_url, seed=SEED) as shop:
        busy_day(shop)
        shop.catch_up()
        sent = []
        connection = shop.server.connection()
        original = connection.execute
        connection.execute = lambda *args, **kwargs: (
            sent.append(args[0]) or original(*args, **kwargs)
        )
        try:
            assert shop.catch_up() == 0
        finally:
            del connection.execute
        assert len(sent) == 1


def shown_by_the_tracker(shop: MallBots) -> list:
    """What the command panel's tracker shows for a few commands: events and rows."""
    world = build_world(shop)
    payment = shop.execute(AuthorizePayment(world.customer, "500.00"))
    tracker = ChangeTracker(shop)
    shown = []

    def run(message):
        outcome = tracker.run(message)
        events = outcome.events[["stream_name", "stream_id", "event_name", "event_data"]]
        rows = {change.table: frame_as_text(change.frame) for change in outcome.changes}
        shown.append((frame_as_text(events), rows, outcome.compared_whole))
        return outcome.result

    run(IncreaseProductPrice(world.widget, "10.49"))
    run(RegisterCustomer("Grace", "555-0199"))
    order = run(CheckoutBasket(world.basket, payment))
    run(CancelOrder(order))
    return shown


def test_the_command_panel_s_tracker_shows_on_postgresql_what_it_shows_on_duckdb(postgres_url):
    with MallBots.open(postgres_url, seed=SEED) as shop, MallBots.in_memory(seed=SEED) as duck:
        on_postgresql, on_duckdb = shown_by_the_tracker(shop), shown_by_the_tracker(duck)
    assert on_postgresql == on_duckdb
    checkout = on_postgresql[2][1]
    assert {"payments.payments", "depot.shopping_lists", "baskets.snapshots"} <= set(checkout)
    assert list(on_postgresql[1][1]) == ["customers.customers"]  # a plain row, no event


def test_the_command_panel_runs_on_a_postgresql_shop(postgres_url):
    said = []
    with MallBots.open(postgres_url, seed=SEED) as shop, MallBots.in_memory(seed=SEED) as duck:
        for each in (shop, duck):
            world = build_world(each)
            panel = CommandPanel(each)
            panel.command.value = AuthorizePayment
            panel.inputs["customer_id"].value = world.customer
            panel.inputs["amount"].value = "25.00"
            panel.run()
            assert panel.error is None
            said.append(panel.what_changed())
    assert said[0] == said[1] == "no new events; rows: payments.payments 1 added."


def test_snapshots_are_copied_with_their_events_while_another_session_writes(postgres_url):
    """Never a snapshot in the copy ahead of its stream's copied events: both come from
    one state of the server, in one DuckDB transaction."""
    ahead = (
        "SELECT count(*) FROM stores.snapshots AS s WHERE s.stream_version > (SELECT "
        "coalesce(max(e.stream_version), 0) FROM stores.events AS e "
        "WHERE e.stream_id = s.stream_id AND e.stream_name = s.stream_name)"
    )
    with MallBots.open(postgres_url, seed=1) as shop:
        world = build_world(shop)
        with MallBots.open(postgres_url, seed=2, snapshot_every=1) as other:
            writer = threading.Thread(
                target=lambda: [
                    other.execute(IncreaseProductPrice(world.widget, f"{10 + n / 100:.2f}"))
                    for n in range(60)
                ]
            )
            writer.start()
            checks = 0
            while writer.is_alive() or checks == 0:
                shop.catch_up()
                assert shop.database.execute(ahead).fetchone() == (0,)
                checks += 1
            writer.join()
        shop.catch_up()
        assert mirrored(shop, "stores.snapshots") == on_server(shop, "stores.snapshots")
        assert shop.database.execute(ahead).fetchone() == (0,)


WRITES = st.lists(
    st.tuples(
        st.sampled_from(["insert", "update", "delete", "truncate"]),
        st.sampled_from(["a", "b", "c", "d"]),
        st.sampled_from(["commit", "rollback", "leave open across a catch-up"]),
    ),
    max_size=10,
)


SQL_OF = {
    "insert": "INSERT INTO plain.rows VALUES (%(key)s, %(n)s) "
    "ON CONFLICT (id) DO UPDATE SET n = excluded.n",
    "update": "UPDATE plain.rows SET n = n + %(n)s WHERE id = %(key)s",
    "delete": "DELETE FROM plain.rows WHERE id = %(key)s",
    "truncate": "TRUNCATE plain.rows",
}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(writes=WRITES)
def test_any_writes_of_another_session_reach_the_copy_once_committed(postgres_url, writes):
    """Whatever another session writes to a tracked table, committed, rolled back or
    still open while the mirror catches up: once nothing is open, the copy is the table.
    (A TRUNCATE left open would make the catch-up wait for its lock, as writers do.)"""
    with PostgresDatabase.open(postgres_url) as server, Database.memory() as duck:
        table = Table(server, "plain.rows", {"id": "VARCHAR", "n": "INTEGER"})
        mirror = LogMirror(server, duck)
        with (
            psycopg.connect(postgres_url) as session,
            psycopg.connect(postgres_url, autocommit=True) as bystander,
        ):
            session.execute("DELETE FROM plain.rows")
            session.commit()
            for n, (write, key, end) in enumerate(writes):
                values = {"key": key, "n": n}
                session.execute(SQL_OF[write], None if write == "truncate" else values)
                if end == "leave open across a catch-up" and write != "truncate":
                    bystander.execute(SQL_OF["insert"], {"key": f"z{n}", "n": n})
                    mirror.pull()  # copies the bystander's row, remembers this snapshot
                    session.commit()
                elif end == "commit":
                    session.commit()
                else:
                    session.rollback()
                mirror.pull()
                assert duck.execute("SELECT * FROM plain.rows ORDER BY ALL").fetchall() == [
                    tuple(row.values()) for row in table.select(order_by="id, n")
                ]
