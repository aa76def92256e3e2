"""Damaged storage blocks, for real: bytes of a closed shop file overwritten, the file
reopened. A snapshot is a cache: loads and commands fall back to the events, saying so
once; ``check`` names every table DuckDB cannot read and keeps reading the others;
``rebuild --snapshots`` mends a snapshot table."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from mallbots import MallBots
from mallbots.cli import main
from mallbots.es import Database
from mallbots.es.duckdb.check import UNREADABLE_TABLE
from mallbots.ordering import GetOrder, ReadyOrder
from mallbots.payments import GetOrderInvoices, PayInvoice
from mallbots.shop_check import check_shop
from mallbots.simulator import PRESETS, simulate
from tests.reliability.damage import damage_table
from tests.reliability.figures import count
from tests.reliability.small_mall import small_mall_file

SNAPSHOT_LOG = "mallbots.es.snapshots"


@pytest.fixture(scope="module")
def bulk_file(tmp_path_factory) -> Path:
    """A bulk-simulated shop file, closed: about 500 orders, 400 of them snapshotted."""
    path = tmp_path_factory.mktemp("bulk") / "mall.duckdb"
    shop, _ = simulate(PRESETS["classroom"].with_changes(max_events=5000), path, progress=False)
    shop.close()
    return path


def copy_of(path: Path, tmp_path: Path) -> Path:
    copy = tmp_path / path.name
    copy.write_bytes(path.read_bytes())
    return copy


def order_states(shop: MallBots) -> dict[str, dict]:
    ids = shop.database.execute("SELECT DISTINCT stream_id FROM ordering.events").fetchall()
    return {order_id: shop.execute(GetOrder(order_id)).state() for (order_id,) in ids}


def unreadable(report) -> set[str]:
    return {p.table for p in report.problems if p.kind == UNREADABLE_TABLE}


def test_a_damaged_snapshot_block_falls_back_to_the_events_and_check_names_it(
    bulk_file, tmp_path, caplog
):
    path = copy_of(bulk_file, tmp_path)
    with MallBots.open(path) as shop:
        expected = order_states(shop)
        snapshotted = shop.database.execute("SELECT count(*) FROM ordering.snapshots").fetchone()
    damage_table(path, "ordering.snapshots")

    with caplog.at_level(logging.WARNING, logger=SNAPSHOT_LOG), MallBots.open(path) as shop:
        assert order_states(shop) == expected  # every order loads, from its events
        assert order_states(shop) == expected  # and again, without a second warning
        fell_back = len(shop.ordering.snapshots.unreadable)
        report = check_shop(shop.database)
        baskets = shop.database.execute("SELECT count(*) FROM baskets.snapshots").fetchone()
    warnings = [r.getMessage() for r in caplog.records if r.name == SNAPSHOT_LOG]
    assert len(warnings) == 1
    assert "ordering.Order" in warnings[0] and "ordering.snapshots" in warnings[0]
    assert "mallbots rebuild --snapshots" in warnings[0]
    assert "SELECT" not in warnings[0]
    assert fell_back == snapshotted[0] > 0  # the whole table sits in the damaged block

    assert unreadable(report) == {"ordering.snapshots"}
    (problem,) = report.problems
    assert "storage block of it is damaged" in problem.detail
    assert "mallbots rebuild --snapshots" in problem.detail
    assert "ordering.snapshots" in str(report) and "SELECT" not in str(report)
    assert "baskets.snapshots" in report.read and baskets[0] > 0  # healthy tables still read

    with MallBots.open(path) as shop:
        written = shop.rebuild_snapshots()
        assert written["ordering.snapshots"] == snapshotted[0]
    with caplog.at_level(logging.WARNING, logger=SNAPSHOT_LOG), MallBots.open(path) as shop:
        caplog.clear()
        assert order_states(shop) == expected
        assert not shop.ordering.snapshots.unreadable
        assert check_shop(shop.database).ok
    assert not [r for r in caplog.records if r.name == SNAPSHOT_LOG]
    count("storage blocks damaged by hand")
    count("tables check_shop named unreadable", len(unreadable(report)))
    count("orders loaded from their events past a damaged snapshot block", fell_back)


def test_commands_on_orders_whose_snapshot_block_is_damaged_succeed(tmp_path):
    path = tmp_path / "small.duckdb"
    mall = small_mall_file(path)  # a snapshot for every order
    damage_table(path, "ordering.snapshots")
    with MallBots.open(path, snapshot_every=1) as shop:
        for order_id in mall.pending:
            shop.execute(ReadyOrder(order_id))  # loads (falling back) and saves
        for order_id in mall.readied + mall.pending:
            (invoice,) = shop.execute(GetOrderInvoices(order_id))
            shop.execute(PayInvoice(invoice.id))
        statuses = {shop.execute(GetOrder(o)).status.value for o in mall.readied + mall.pending}
        report = check_shop(shop.database)
    assert statuses == {"completed"}
    assert unreadable(report) == {"ordering.snapshots"}
    assert len(report.problems) == 1  # every rule across modules holds
    count("commands run on orders past a damaged snapshot block", 2 * len(mall.pending) + 3)


def test_the_command_line_names_a_damaged_table_and_rebuilds_the_snapshots(
    bulk_file, tmp_path, capsys
):
    path = copy_of(bulk_file, tmp_path)
    damage_table(path, "ordering.snapshots")
    assert main(["check", "--db", str(path)]) == 1
    out = capsys.readouterr().out
    assert "unreadable table: ordering.snapshots" in out
    assert f"mallbots rebuild --snapshots --db {path}" in out

    assert main(["rebuild", "--snapshots", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert "ordering.snapshots:" in out and "snapshots written" in out
    assert "events applied" not in out  # the read models were left alone

    assert main(["check", "--db", str(path)]) == 0
    assert capsys.readouterr().out.endswith("no problems found\n")


@pytest.mark.parametrize(
    ("table", "remedy"),
    [
        ("stores.products", "mallbots rebuild --db"),
        ("stores.stores", "mallbots rebuild --db"),
        ("reporting.sales_lines", "mallbots rebuild --db"),
        ("projections.checkpoints", "restore the file from a backup"),
        ("baskets.events", "restore the file from a backup"),
    ],
)
def test_check_names_any_damaged_table_reads_on_and_says_what_mends_it(
    bulk_file, tmp_path, table, remedy
):
    path = copy_of(bulk_file, tmp_path)
    damage_table(path, table)
    with Database.open(path, read_only=True) as database:
        report = check_shop(database)
    assert unreadable(report) == {table}
    (problem,) = report.problems
    assert remedy in problem.detail
    assert report.events > 0 and len(report.read) >= 14  # everything else was read
    if table.endswith(".events"):  # the rules across modules need it: said, not run
        assert any("cannot be read" in note for note in report.notes)
    if "rebuild" in remedy:  # and the remedy it names works
        assert main(["rebuild", "--db", str(path)]) == 0
        with Database.open(path, read_only=True) as database:
            assert check_shop(database).ok
    count("storage blocks damaged by hand")
    count("tables check_shop named unreadable", len(unreadable(report)))
