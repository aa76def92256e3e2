"""A whole shop on PostgreSQL: the write side on the server, the read side in DuckDB."""

from __future__ import annotations

import multiprocessing
import threading
import time
from decimal import Decimal

import pytest

from tests.postgres_support import (
    NO_PSYCOPG,
    frame_as_text,
    same_frames,
    wait_until_a_session_waits_for_a_lock,
)

pytest.importorskip("psycopg", reason=NO_PSYCOPG)

from mallbots.app import SCHEMAS, MallBots
from mallbots.baskets import CheckoutBasket
from mallbots.demo import run_demo
from mallbots.es import Database
from mallbots.es.errors import ForeignDatabaseError
from mallbots.es.postgres import PostgresDatabase, RowTakenError, ServerUnavailableError
from mallbots.es.postgres.mirror import MirrorMismatchError
from mallbots.es.postgres.transfer import copy_log_to_postgres
from mallbots.frames import exact_frame
from mallbots.ordering import GetOrder
from mallbots.payments import AuthorizePayment, ConfirmPayment
from mallbots.payments.errors import PaymentCannotBeConfirmedError
from mallbots.read_side import INLINE_CATCH_UP
from mallbots.simulator import PRESETS, simulate
from mallbots.stores import AddProduct, CreateStore, EnableParticipation, IncreaseProductPrice
from tests.shop_support import SEED, build_world
from tests.storage.pg_shop_workers import raise_price_twice_if_need_be
from tests.test_cli import mallbots

spawn = multiprocessing.get_context("spawn")


def test_the_book_s_order_flow_on_postgresql_gives_a_duckdb_shop_s_tables(postgres_url):
    with MallBots.open(postgres_url, seed=7) as shop, MallBots.in_memory(seed=7) as embedded:
        ids = run_demo(shop)
        assert ids == run_demo(embedded)
        assert shop.tables == embedded.tables
        different = [
            table
            for table in embedded.tables
            if not same_frames(shop.read_model(table), embedded.read_model(table))
        ]
        assert different == []
        assert same_frames(shop.log_frame(), embedded.log_frame())
        assert shop.sales_per_store().equals(embedded.sales_per_store())
        product = ids.products[0]  # the stream, its history and time travel, on the mirror
        for view in (MallBots.stream_frame, MallBots.history):
            assert same_frames(
                view(shop, "stores.Product", product), view(embedded, "stores.Product", product)
            )
        then = [m.aggregate_at("stores.Product", product, version=1) for m in (shop, embedded)]
        assert repr(then[0]) == repr(then[1])  # aggregates compare by identity


def test_a_shop_reads_its_own_writes_at_once(postgres_url):
    with MallBots.open(postgres_url, seed=1) as shop:
        store = shop.execute(CreateStore("Corner", "Level 1"))
        assert shop.stores.application.mall.find(store).name == "Corner"  # no execute between
        assert shop.projector.status()["lag"].tolist() == [0, 0, 0, 0]


def test_a_duckdb_shop_refuses_read_models_elsewhere():
    with pytest.raises(ValueError, match="PostgreSQL"):
        MallBots.open(":memory:", read_models="elsewhere.duckdb")


def test_two_processes_on_one_mall_conflict_retry_and_catch_up_alike(postgres_url, tmp_path):
    """A command racing another process's on one product is refused, then succeeds on
    retry; both processes' read models end the same; the log is 1..N in commit order."""
    other_models = tmp_path / "other.duckdb"
    with MallBots.open(postgres_url, seed=1) as shop:
        store = shop.execute(CreateStore("Corner", "Level 1"))
        shop.execute(EnableParticipation(store))
        product = shop.execute(AddProduct(store, "Teapot", "20.00", "Six cups", "TEA"))
        ready, go, finish = spawn.Event(), spawn.Event(), spawn.Event()
        results = spawn.Queue()
        other = spawn.Process(
            target=raise_price_twice_if_need_be,
            args=(postgres_url, str(other_models), product, ready, go, finish, results),
        )
        other.start()
        try:
            assert ready.wait(60)
            with shop.server.transaction():  # our command has taken its positions ...
                shop.execute(IncreaseProductPrice(product, "25.00"))
                go.set()  # ... when the other process's command loads the product
                # and waits on our lock
                wait_until_a_session_waits_for_a_lock(postgres_url, "the other command")
            assert results.get(timeout=60) == ("conflict", 1, 1, 2)
            assert results.get(timeout=60) == ("saved", 2)
            finish.set()
            assert results.get(timeout=60) == ("closed",)
        finally:
            go.set()
            finish.set()
            other.join(60)
        assert other.exitcode == 0
        shop.catch_up()
        assert shop.stores.application.catalog.find(product).price == Decimal("30.00")
        log = shop.log_frame()
        assert log["position"].tolist() == list(range(1, len(log) + 1))
        assert log["event_name"].tolist()[-2:] == [
            "stores.ProductPriceIncreased",
            "stores.ProductPriceIncreased",
        ]
        with Database.open(other_models, read_only=True) as theirs:
            for table in [
                *shop.database.log_tables,
                *(t for p in shop.projector for t in p.tables),
            ]:
                ours = exact_frame(shop.database, f"SELECT * FROM {table} ORDER BY ALL")
                assert same_frames(ours, exact_frame(theirs, f"SELECT * FROM {table} ORDER BY ALL"))


def everything_stored(shop: MallBots) -> tuple:
    """Every row on the server (the mall's tables and its log counter) and every row of
    the local mirror (events, read models, checkpoints, the mirror's head)."""
    server = shop.server.statements()
    server_tables = shop.server.tables_in([*SCHEMAS, "mallbots"])
    duckdb_tables = [
        name
        for (name,) in shop.database.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables() ORDER BY 1"
        ).fetchall()
    ]
    return (
        {t: frame_as_text(server.sorted_frame(t)) for t in server_tables},
        {
            t: shop.database.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in duckdb_tables
        },
        shop.projector.status().to_dict("records"),
    )


def test_a_refused_command_writes_nothing_to_the_server_or_the_mirror(postgres_url):
    with MallBots.open(postgres_url, seed=SEED) as shop:
        world = build_world(shop)
        shop.execute(AuthorizePayment(world.customer, "19.97", payment_id="small"))
        before = everything_stored(shop)
        with pytest.raises(PaymentCannotBeConfirmedError):  # after the basket's checkout
            shop.execute(CheckoutBasket(world.basket, "small"))
        assert everything_stored(shop) == before
        order = shop.execute(CheckoutBasket(world.basket, world.payment))  # carries on
        assert shop.execute(GetOrder(order)).payment_id == world.payment
        assert shop.log_frame()["position"].tolist() == list(range(1, shop.log.count() + 1))


def test_a_read_model_file_reopened_continues_from_its_checkpoint(postgres_url, tmp_path):
    models = tmp_path / "models.duckdb"
    with MallBots.open(postgres_url, seed=SEED, read_models=models) as shop:
        world = build_world(shop)
        head = shop.log.head()
    with Database.open(models) as database:  # marks a row the log will not touch again
        database.execute(
            "UPDATE stores.products SET description = 'marked' WHERE id = $1", [world.gadget]
        )
    with MallBots.open(postgres_url, seed=SEED + 1) as elsewhere:  # another kernel carries on
        elsewhere.execute(CreateStore("Later", "Level 3", store_id="later"))
    with MallBots.open(postgres_url, read_models=models) as shop:
        assert shop.log.head() == head + 1
        assert "later" in set(shop.read_model("stores.stores")["id"])
        products = shop.read_model("stores.products").set_index("id")
        assert products.loc[world.gadget, "description"] == "marked"  # not rebuilt
        assert shop.projector.status()["lag"].tolist() == [0, 0, 0, 0]


def test_a_read_model_file_of_another_mall_is_refused(postgres_cluster, tmp_path):
    models = tmp_path / "models.duckdb"
    with postgres_cluster.database() as first, postgres_cluster.database() as second:
        MallBots.open(first, read_models=models).close()
        with pytest.raises(MirrorMismatchError, match="another mall"):
            MallBots.open(second, read_models=models)
        MallBots.open(first, read_models=models).close()  # still its own mall's


def test_a_server_that_cannot_be_reached_is_said_plainly():
    url = "postgresql://ada:secret@127.0.0.1:1/mall"
    with pytest.raises(ServerUnavailableError, match="cannot connect") as refused:
        MallBots.open(url)
    assert "secret" not in str(refused.value)


def test_the_command_line_runs_a_shop_on_postgresql(postgres_url):
    demo = mallbots("demo", "--seed", "3", "--db", postgres_url)
    assert demo.returncode == 0, demo.stderr
    assert "The log holds 18 events." in demo.stdout
    stats = mallbots("stats", "--db", postgres_url)
    assert stats.returncode == 0, stats.stderr
    assert stats.stdout.startswith(f"{postgres_url}: 18 events")
    events = mallbots("events", "--last", "1", "--db", postgres_url)
    assert "ordering.OrderCompleted" in events.stdout
    check = mallbots("check", "--db", postgres_url)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "no problems found" in check.stdout
    with MallBots.open(postgres_url) as shop:  # what the command line wrote, on the server
        assert shop.log.count() == 18
    simulate = mallbots("simulate", "--db", postgres_url)
    assert (simulate.returncode, simulate.stdout) == (1, "")  # a mall is there: refused
    assert "already holds a shop's rows in stores.events" in simulate.stderr
    down = mallbots("demo", "--db", "postgresql://ada:secret@127.0.0.1:1/mall")
    assert down.returncode == 1
    assert down.stderr.startswith("mallbots: error: cannot connect to the PostgreSQL database")
    assert "secret" not in down.stderr and "Traceback" not in down.stderr


def test_a_read_model_file_is_no_shop_of_its_own(postgres_url, tmp_path):
    models = tmp_path / "models.duckdb"
    with MallBots.open(postgres_url, seed=SEED, read_models=models) as shop:
        build_world(shop)
        events = shop.log.count()
    with pytest.raises(ForeignDatabaseError, match="read models of the mall at postgresql://"):
        MallBots.open(models)
    stats = mallbots("stats", "--db", str(models))  # but it reads as one
    assert stats.returncode == 0, stats.stderr
    assert stats.stdout.startswith(f"{models}: {events} events")


def test_a_seed_on_postgresql_is_deterministic_as_on_a_file(postgres_url, tmp_path):
    """Reopened with a seed, a mall draws the same ids and times from the same state, and
    not those it already holds: as a file does."""
    with MallBots.open(postgres_url, seed=SEED) as shop:
        world = build_world(shop)
        used = {world.store, world.widget, world.gadget, world.customer, world.basket}

    def next_ids() -> list[str]:
        with MallBots.open(postgres_url, seed=SEED) as shop:
            return [shop.ids() for _ in range(3)] + [str(shop.clock())]

    first = next_ids()
    assert next_ids() == first  # nothing written between: the same draws
    assert not used & set(first)
    with MallBots.open(tmp_path / "file.duckdb", seed=SEED) as on_file:
        build_world(on_file)
    with MallBots.open(tmp_path / "file.duckdb", seed=SEED) as on_file:
        assert first[-1] == str(on_file.clock())  # the clock goes on after the newest event


def test_two_sessions_checking_and_writing_one_plain_row_take_turns(postgres_url):
    """Two kernels confirming one payment: the second waits for the first to commit,
    then reads the payment used and is refused (not both confirmed)."""
    with MallBots.open(postgres_url, seed=SEED) as shop:
        world = build_world(shop)
        outcome: list[str] = []

        def confirm() -> None:  # another session: this thread's own connection
            try:
                shop.execute(ConfirmPayment(world.payment, world.customer, "1"))
                outcome.append("confirmed")
            except PaymentCannotBeConfirmedError as refused:
                outcome.append(str(refused))

        with shop.server.transaction():
            shop.execute(ConfirmPayment(world.payment, world.customer, "1"))
            other = threading.Thread(target=confirm)
            other.start()
            wait_until_a_session_waits_for_a_lock(postgres_url, "the other session")
        other.join(30)
        assert outcome == ["payment cannot be confirmed: it was already used"]


def test_a_plain_key_taken_by_another_session_meanwhile_is_told_as_such(postgres_url):
    with MallBots.open(postgres_url, seed=SEED) as shop:
        customers = shop.customers.customers.table
        row = {"id": "ada", "name": "Ada", "sms_number": "555-0100", "enabled": True}
        customers.insert(row)
        with pytest.raises(RowTakenError, match="another session added the same key"):
            customers.insert(row)


def test_a_simulated_mall_copied_to_the_server_reads_as_its_file_does(postgres_url, tmp_path):
    """A long log (more than a command's catch-up) comes over in windows and builds the
    read models by SQL: the same tables as the file's, built event by event."""
    config = PRESETS["small"].with_changes(seed=3, max_events=INLINE_CATCH_UP * 3)
    embedded, _ = simulate(config, tmp_path / "mall.duckdb", progress=False)
    with embedded, PostgresDatabase.open(postgres_url) as server:
        copied = copy_log_to_postgres(embedded.database, server)
        with MallBots.open(postgres_url) as shop:
            assert shop.log.count() == copied > INLINE_CATCH_UP
            for projection in shop.projector:
                for table in projection.tables:
                    assert same_frames(shop.read_model(table), embedded.read_model(table)), table


def test_a_shop_opens_while_another_session_s_command_holds_the_log(postgres_url):
    """Opening creates nothing that an append in flight has locked: a student joins the
    mall while another's command (here, a transaction left open) holds the counter."""
    with MallBots.open(postgres_url, seed=SEED) as shop:
        world = build_world(shop)
        with shop.server.transaction():
            shop.execute(IncreaseProductPrice(world.widget, "10.99"))  # holds the counter
            started = time.monotonic()
            with MallBots.open(postgres_url, seed=SEED + 1) as joining:
                assert joining.log.count() == shop.log.count()  # the committed log
            assert time.monotonic() - started < joining.server.lock_timeout
