"""``mallbots simulate --db postgresql://...``: a simulated mall on the server, the same
log as the same simulation into a file."""

from __future__ import annotations

import pytest

from tests.postgres_support import NO_PSYCOPG, frame_as_text, same_frames

pytest.importorskip("psycopg", reason=NO_PSYCOPG)

from mallbots.app import MallBots
from mallbots.cli import main
from mallbots.frames import exact_frame

PLAIN = ["customers.customers", "payments.payments", "depot.shopping_lists"]


def assert_same_mall(server_url: str, file: str) -> None:
    with MallBots.open(server_url) as server, MallBots.open(file) as simulated:
        assert len(server.log_frame()) == len(simulated.log_frame()) > 0
        assert same_frames(server.log_frame(), simulated.log_frame())
        for table in [*PLAIN, "baskets.snapshots"]:
            query = f"SELECT * FROM {table} ORDER BY ALL"
            copied = exact_frame(server.database, query)  # the read side's copy
            assert same_frames(copied, exact_frame(simulated.database, query)), table


def test_a_bulk_simulation_lands_on_the_server_as_in_a_file(postgres_url, tmp_path, capsys):
    file = str(tmp_path / "mall.duckdb")
    options = ["--events", "2000", "--seed", "5", "--no-progress"]
    assert main(["simulate", "--db", postgres_url, *options]) == 0
    said = capsys.readouterr().out
    assert "in bulk: 2,000 events" in said and "copied to postgresql://" in said
    assert main(["simulate", "--db", file, *options]) == 0
    assert_same_mall(postgres_url, file)


def test_a_server_holding_a_mall_is_refused_before_simulating(postgres_url, capsys):
    options = ["--events", "200", "--seed", "5", "--no-progress"]
    assert main(["simulate", "--db", postgres_url, *options]) == 0
    with MallBots.open(postgres_url) as shop:
        before = frame_as_text(shop.log_frame())
    capsys.readouterr()
    assert main(["simulate", "--db", postgres_url, *options, "--seed", "6"]) == 1
    refusal = capsys.readouterr().err
    assert "already holds a shop's rows in stores.events" in refusal
    assert "nothing was done" in refusal
    assert main(["simulate", "--db", postgres_url, *options, "--overwrite"]) == 2
    assert "is not replaced" in capsys.readouterr().err
    with MallBots.open(postgres_url) as shop:
        assert frame_as_text(shop.log_frame()) == before


def test_one_command_at_a_time_runs_on_the_server_as_on_a_file(postgres_url, tmp_path):
    file = str(tmp_path / "mall.duckdb")
    options = ["--events", "80", "--seed", "9", "--no-progress", "--per-command"]
    assert main(["simulate", "--db", postgres_url, *options]) == 0
    assert main(["simulate", "--db", file, *options]) == 0
    assert_same_mall(postgres_url, file)
