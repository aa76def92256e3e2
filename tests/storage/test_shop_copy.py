"""``mallbots copy``: a shop moves from a DuckDB file into PostgreSQL and back, whole."""

from __future__ import annotations

import pytest

from tests.postgres_support import NO_PSYCOPG

pytest.importorskip("psycopg", reason=NO_PSYCOPG)

import itertools
import shutil
import threading
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings

from mallbots import MallBots
from mallbots.cli import main
from mallbots.es import Database
from mallbots.es.duckdb.transfer import DuckDBSide
from mallbots.es.postgres import PostgresDatabase, PostgresLog
from mallbots.es.postgres.schema import (
    CLAIM_POSITIONS,
    continuations_table_sql,
    event_table_sql,
    snapshot_table_sql,
)
from mallbots.local_postgres import free_port
from mallbots.shop_copy import copy_shop, write_side
from mallbots.stores import CreateStore
from tests.shop_scripts import GRAND_TOUR, run_script, scripts


@pytest.fixture(scope="module")
def grand_tour(tmp_path_factory) -> Path:
    """A shop file whose write side holds something in every table: every module's
    events, archives, snapshots, continuations, and the plain tables."""
    path = tmp_path_factory.mktemp("grand_tour") / "shop.duckdb"
    with MallBots.open(path, seed=7) as shop:
        run_script(shop, GRAND_TOUR)
    return path


@pytest.fixture
def source(grand_tour, tmp_path) -> str:
    path = tmp_path / "shop.duckdb"
    shutil.copy(grand_tour, path)
    return str(path)


def write_side_tables(shop: MallBots) -> list[str]:
    """The shop's own list of its write side's tables, but the events (compared as the
    log frame): snapshots, continuations, plain tables."""
    models = {table for projection in shop.projector for table in projection.tables}
    return [
        table
        for table in shop.tables
        if table not in models and table.rpartition(".")[2] not in ("events", "events_archive")
    ]


def rows_of(database: Database | PostgresDatabase, tables: list[str]) -> dict[str, list]:
    """Every row of each table, in one order on either backend."""
    return {
        table: sorted(
            (tuple(row) for row in database.execute(f"SELECT * FROM {table}").fetchall()),
            key=lambda row: tuple(map(str, row)),
        )
        for table in tables
    }


def read_models(shop: MallBots) -> dict[str, pd.DataFrame]:
    return {table: shop.read_model(table) for p in shop.projector for table in p.tables}


def test_a_shop_copied_into_postgresql_and_back_is_the_same_shop(source, tmp_path, postgres_url):
    back = str(tmp_path / "back.duckdb")
    assert main(["copy", source, postgres_url]) == 0
    assert main(["copy", postgres_url, back]) == 0
    with MallBots.open(source) as before, MallBots.open(back) as after:
        plan = write_side(DuckDBSide(before.database))
        assert "stores.events_archive" in plan.events
        assert plan.continuations == ("stores.continuations",)
        assert "payments.invoices" in plan.plain
        pd.testing.assert_frame_equal(after.log_frame(), before.log_frame())
        tables = write_side_tables(before)
        rows = rows_of(before.database, tables)
        assert all(rows.values()), "every write-side table of the grand tour holds rows"
        assert rows_of(after.database, tables) == rows
        expected = read_models(before)
        rebuilt = read_models(after)
        assert list(rebuilt) == list(expected)
        for table, frame in expected.items():
            pd.testing.assert_frame_equal(rebuilt[table], frame, obj=table)
        with PostgresDatabase.open(postgres_url) as server:
            assert list(PostgresLog(server, before.registry).events()) == list(before.log.events())
            assert server.last_position == before.database.last_position
            assert rows_of(server, tables) == rows
        head = before.database.last_position
        after.execute(CreateStore("Copied Corner", "Level 9"))
        assert after.log_frame()["position"].tolist()[-1] == head + 1


def test_a_shop_copied_into_postgresql_opens_there_as_the_same_shop(source, postgres_url):
    """What the copy is for: the class's server holds the shop the file held. A shop opened
    on the URL mirrors the same log, builds the same read models, and goes on from there."""
    assert main(["copy", source, postgres_url]) == 0
    with MallBots.open(source) as before, MallBots.open(postgres_url) as after:
        pd.testing.assert_frame_equal(after.log_frame(), before.log_frame())
        rebuilt = read_models(after)
        for table, frame in read_models(before).items():
            pd.testing.assert_frame_equal(rebuilt[table], frame, obj=table)
        head = before.database.last_position
        after.execute(CreateStore("Copied Corner", "Level 9"))
        assert after.log_frame()["position"].tolist()[-1] == head + 1


def test_an_empty_shop_file_takes_a_copy(source, tmp_path):
    """A file a shop made and never used: its tables fit, its read models catch up."""
    target = tmp_path / "empty_shop.duckdb"
    MallBots.open(target).close()
    assert main(["copy", source, str(target)]) == 0
    with MallBots.open(source) as before, MallBots.open(target) as after:
        pd.testing.assert_frame_equal(after.log_frame(), before.log_frame())
        rebuilt = read_models(after)
        for table, frame in read_models(before).items():
            pd.testing.assert_frame_equal(rebuilt[table], frame, obj=table)


def test_the_server_tables_are_made_as_the_store_makes_them(source, postgres_cluster):
    """The same columns, types and constraints (keys are built after the rows are in,
    under the same names) as the PostgreSQL store's own DDL gives them."""
    made_here = ("stores.events", "stores.snapshots", "stores.continuations")
    columns = (
        "SELECT table_schema || '.' || table_name, column_name, data_type, is_nullable "
        "FROM information_schema.columns WHERE table_schema || '.' || table_name = ANY(%s) "
        "ORDER BY 1, ordinal_position"
    )
    constraints = (
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid::regclass::text = ANY(%s) ORDER BY 1, 2"
    )
    with postgres_cluster.database() as copied_url, postgres_cluster.database() as made_url:
        assert main(["copy", source, copied_url]) == 0
        with PostgresDatabase.open(copied_url) as copied, PostgresDatabase.open(made_url) as made:
            made.create(
                event_table_sql("stores.events")
                + snapshot_table_sql("stores.snapshots")
                + continuations_table_sql("stores.continuations")
            )
            for query in (columns, constraints):
                expected = made.execute(query, [list(made_here)]).fetchall()
                assert len({row[0] for row in expected}) == 3
                assert copied.execute(query, [list(made_here)]).fetchall() == expected


def test_copying_between_files_prints_each_table_and_a_summary(source, tmp_path, capsys):
    target = str(tmp_path / "copy.duckdb")
    assert main(["copy", source, target]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"Copying {source} into {target}:"
    with Database.open(source, read_only=True) as database:
        plan = write_side(DuckDBSide(database))
        counts = {
            table: database.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in (*plan.events, *plan.snapshots, *plan.continuations, *plan.plain)
        }
    assert lines[1:-1] == [f"  {table}: {count:,} rows" for table, count in counts.items()]
    assert lines[-1].startswith(f"Copied {sum(counts.values()):,} rows in {len(counts)} tables")
    assert "rebuilt from the log when a shop opens" in lines[-1]


def test_a_target_holding_a_shop_is_refused_and_left_as_it_was(source, tmp_path, postgres, capsys):
    file = str(tmp_path / "copy.duckdb")
    assert main(["copy", source, file]) == 0
    assert main(["copy", source, postgres.url]) == 0
    with MallBots.in_memory() as shop:
        tables = [f"{m}.events" for m in ("stores", "baskets", "ordering")]
        tables += write_side_tables(shop)
    with Database.open(file, read_only=True) as database:
        before_file = rows_of(database, tables)
    before_server = rows_of(postgres, tables), postgres.last_position
    capsys.readouterr()
    for target in (file, postgres.url):
        assert main(["copy", source, target]) == 1
        error = capsys.readouterr().err
        assert "already holds rows in stores.events" in error
        assert "nothing was copied" in error
    with Database.open(file, read_only=True) as database:
        assert rows_of(database, tables) == before_file
    assert (rows_of(postgres, tables), postgres.last_position) == before_server


def test_a_server_table_of_another_shape_is_refused_and_nothing_is_made(
    source, postgres_url, capsys
):
    with PostgresDatabase.open(postgres_url, create=False) as server:
        server.execute("CREATE SCHEMA customers")
        server.execute("CREATE TABLE customers.customers (id TEXT PRIMARY KEY, name TEXT)")
        assert main(["copy", source, postgres_url]) == 1
        error = capsys.readouterr().err
        assert "customers.customers (it has columns (id VARCHAR, name VARCHAR)" in error
        made = server.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        assert made == [("customers.customers",)]


def test_what_is_not_a_shop_is_refused_and_no_target_file_is_left(tmp_path, postgres_url, capsys):
    foreign = str(tmp_path / "foreign.duckdb")
    with Database.open(foreign) as database:
        database.execute("CREATE TABLE things (id INTEGER)")
    target = tmp_path / "copy.duckdb"
    assert main(["copy", foreign, str(target)]) == 1
    assert "was not made by MallBots" in capsys.readouterr().err
    empty = tmp_path / "empty.duckdb"
    Database.open(empty).close()
    for empty_source in (str(empty), postgres_url):
        assert main(["copy", empty_source, str(target)]) == 2
        assert "holds no MallBots shop (it is empty); nothing was copied" in (
            capsys.readouterr().err
        )
    with PostgresDatabase.open(postgres_url, create=False) as server:
        server.execute("CREATE TABLE things (id INTEGER)")
    assert main(["copy", postgres_url, str(target)]) == 1
    assert "holds no MallBots shop (it lacks mallbots.log_position" in capsys.readouterr().err
    assert not target.exists()


def test_an_unreachable_server_is_named_without_its_password(source, tmp_path, capsys):
    url = f"postgresql://student:s3cret@127.0.0.1:{free_port()}/mall"
    target = tmp_path / "copy.duckdb"
    for argv in (["copy", source, url], ["copy", url, str(target)]):
        assert main(argv) == 1
        printed = capsys.readouterr()
        (line,) = printed.err.splitlines()
        assert line.startswith("mallbots: error: cannot connect to the PostgreSQL database")
        assert "student:***@127.0.0.1" in line
        assert "s3cret" not in line + printed.out
    assert not target.exists()


def test_a_copy_stopped_midway_leaves_no_trace(source, tmp_path, postgres_url):
    def stop_after_the_first_table(table: str, rows: int) -> None:
        raise KeyboardInterrupt

    target = tmp_path / "copy.duckdb"
    for where in (str(target), postgres_url):
        with pytest.raises(KeyboardInterrupt):
            copy_shop(source, where, progress=stop_after_the_first_table)
    assert not target.exists()
    with PostgresDatabase.open(postgres_url, create=False) as server:
        (tables,) = server.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN "
            "('pg_catalog', 'information_schema')"
        ).fetchone()
    assert tables == 0


@pytest.mark.parametrize(
    ("target", "status", "says"),
    [
        ("postgresql://127.0.0.1:notaport/mall", 1, "cannot connect"),
        ("mysql://127.0.0.1/mall", 2, "mysql:// is not a database this command copies"),
        ("SOURCE", 1, "is both the source and the target"),
    ],
)
def test_a_bad_target_is_one_line(source, target, status, says, capsys):
    assert main(["copy", source, source if target == "SOURCE" else target]) == status
    (line,) = capsys.readouterr().err.splitlines()
    assert says in line


def test_a_missing_source_file_is_a_usage_error(tmp_path, capsys):
    assert main(["copy", str(tmp_path / "none.duckdb"), str(tmp_path / "copy.duckdb")]) == 2
    assert "no database file" in capsys.readouterr().err


def test_a_log_copied_while_others_append_is_a_whole_prefix(source, tmp_path, postgres):
    """The server's tables are read in one snapshot: appends committed during the copy
    are all in it or all out, so the copied positions run 1..N without a hole."""
    assert main(["copy", source, postgres.url]) == 0
    stop = threading.Event()

    def append_to_each_table_in_turn() -> None:
        with PostgresDatabase.open(postgres.url) as writer:
            for number in itertools.count():
                if stop.is_set():
                    return
                table = ("stores.events", "ordering.events")[number % 2]
                with writer.transaction() as cursor:
                    (position,) = cursor.execute(
                        f"{CLAIM_POSITIONS} RETURNING last_position", [1]
                    ).fetchone()
                    cursor.execute(
                        f"INSERT INTO {table} (position, stream_id, stream_name, stream_version, "
                        "event_id, event_name, event_data, occurred_at) VALUES "
                        "(%s, %s, 'race.Stream', 1, gen_random_uuid(), 'race.Ran', '{}', now())",
                        [position, f"race-{number}"],
                    )

    writer = threading.Thread(target=append_to_each_table_in_turn)
    writer.start()
    try:
        for attempt in range(3):
            back = tmp_path / f"back{attempt}.duckdb"
            copy_shop(postgres.url, str(back))
            with Database.open(back, read_only=True) as copied:
                positions = [
                    position
                    for (position,) in copied.execute(
                        "SELECT position FROM (SELECT position FROM stores.events UNION ALL "
                        "SELECT position FROM stores.events_archive UNION ALL "
                        "SELECT position FROM baskets.events UNION ALL "
                        "SELECT position FROM ordering.events) ORDER BY position"
                    ).fetchall()
                ]
            assert positions == list(range(1, len(positions) + 1))
    finally:
        stop.set()
        writer.join()
    assert postgres.last_position > positions[-1], "the writer appended during the copies"


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=scripts)
def test_random_shops_survive_the_round_trip(script, postgres_cluster, tmp_path_factory):
    folder = tmp_path_factory.mktemp("round_trip")
    with MallBots.open(folder / "shop.duckdb", seed=7) as shop:
        run_script(shop, script)
        frame = shop.log_frame()
        tables = write_side_tables(shop)
        rows = rows_of(shop.database, tables)
        models = read_models(shop)
    with postgres_cluster.database() as url:
        copy_shop(str(folder / "shop.duckdb"), url)
        copy_shop(url, str(folder / "back.duckdb"))
    with MallBots.open(folder / "back.duckdb") as back:
        pd.testing.assert_frame_equal(back.log_frame(), frame)
        assert rows_of(back.database, tables) == rows
        rebuilt = read_models(back)
        for table, model in models.items():
            pd.testing.assert_frame_equal(rebuilt[table], model, obj=table)
