"""The benchmark script still runs (quick mode, MallBots only). No timing is asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import run
from benchmarks.workloads import WORKLOADS

ROOT = Path(__file__).resolve().parent.parent


def test_quick_mode_measures_every_workload_without_the_peer(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "eventsourcing", None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, "benchmarks.peer_side", raising=False)
    results = run.main(["--quick", "--rounds", "1", "--no-postgres"])  # measured below
    out = capsys.readouterr().out
    assert "The peer is not installed" in out
    assert [r.workload.key for r in results] == [w.key for w in WORKLOADS]
    for result in results:
        assert result.median("MallBots") > 0
        assert "eventsourcing" not in result.figures
    assert "rebuild the catalog from 1,000,000 events" in out  # every row is measured


def test_the_script_runs_from_the_command_line():
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            "--quick",
            "--mallbots-only",
            "--rounds",
            "1",
            "--only",
            "append_one",
            "load_snapshot",
            "--no-durable",  # the PostgreSQL comparison on one cluster: its wiring, not its figures
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "MallBots" in done.stdout and "DuckDB INSERT" in done.stdout
    assert "on PostgreSQL (a throwaway cluster, a cluster that flushes nothing)" in done.stdout
    assert "a durable cluster" not in done.stdout
    assert "each message held 0.25 ms each way" in done.stdout  # as across a LAN


def test_the_simulator_benchmark_times_a_run_and_its_stages():
    def simulate(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "simulate.py"), *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    runs = simulate("--presets", "classroom", "--runs", "1")
    assert "classroom" in runs and "runs:" in runs
    stages = simulate("--stages", "--presets", "classroom", "--runs", "1")
    seconds = {
        line.rsplit(None, 2)[0].strip(): float(line.split()[-2]) for line in stages.splitlines()[1:]
    }
    assert set(seconds) == {
        "the activity deciding what happens",
        "the shop's commands, writing nothing",
        "the same, batched and serialized too",
        "saving, catching up, closing (the rest)",
        "the whole run, end to end",
    }
    assert all(value > 0 for value in seconds.values())


def test_the_shop_command_benchmark_times_each_kind_of_command(capsys):
    from benchmarks import shop_commands

    figures = shop_commands.main(["--preset", "classroom", "--rounds", "2", "--commands", "3"])
    assert list(figures) == [
        "change a product's price",
        "add an item to a basket",
        "start a basket",
        "check out a basket",
        "cancel an order",
    ]
    assert all(len(values) == 2 and min(values) > 0 for values in figures.values())
    assert "check out a basket" in capsys.readouterr().out


def test_the_shop_command_benchmark_times_a_copy_and_leaves_the_mall_alone(tmp_path, capsys):
    from benchmarks import shop_commands
    from mallbots.simulator import PRESETS, simulate

    mall = tmp_path / "mall.duckdb"
    shop, simulated = simulate(PRESETS["classroom"], mall, progress=False)
    shop.close()
    before = mall.read_bytes()
    shop_commands.main(["--copy-of", str(mall), "--rounds", "1", "--commands", "2"])
    assert f"a copy of {mall}: {simulated.events:,} events" in capsys.readouterr().out
    assert mall.read_bytes() == before
    with pytest.raises(SystemExit):
        shop_commands.main(["--copy-of", str(tmp_path / "missing.duckdb")])
    assert "no mall file at" in capsys.readouterr().err


@pytest.mark.parametrize("durable", [False, True], ids=["flushing-nothing", "durable"])
def test_the_postgres_comparison_measures_its_workloads_on_a_throwaway_server(durable, capsys):
    """Every workload on a cluster that flushes nothing; on a durable one, those measured
    against the INSERT floor."""
    from benchmarks import postgres_floor, postgres_vs_eventsourcing
    from tests.postgres_support import missing, skip_or_fail

    reason = missing()
    if reason is not None:
        skip_or_fail(reason)
    assert postgres_vs_eventsourcing.DURABLE_KEYS == [
        "append_one",
        "commands",
        "commands_cached",
        "commands_cached_checked",
        "commands_snapshots",
    ]
    results = postgres_vs_eventsourcing.run(None, 1, quick=True, with_peer=False, durable=durable)
    expected = (
        postgres_vs_eventsourcing.DURABLE_KEYS if durable else postgres_vs_eventsourcing.keys()
    )
    assert [r.workload.key for r in results] == expected
    floors = {floor.NAME for floor in postgres_floor.FLOORS}
    bare = postgres_floor.BARE_COMMAND.NAME
    for result in results:
        assert result.median("MallBots") > 0
        assert (floors <= set(result.figures)) == result.workload.against_floor
        assert (bare in result.figures) == (result.workload.key in postgres_floor.COMMAND_KEYS)
    out = capsys.readouterr().out
    assert "psycopg INSERT + commit() rows/s" in out
    assert f"| MallBots | {bare} | MallBots / it | it / psycopg INSERT + commit() |" in out
    switch = "on" if durable else "off"
    assert f"(fsync={switch}, synchronous_commit={switch}, full_page_writes={switch})" in out


def test_the_postgres_comparison_through_a_network_delay_pays_it_on_each_round_trip(capsys):
    """The floored workloads through a proxy that holds each message 2 ms each way: a
    round trip takes at least 4 ms, and the INSERT floor is slowed down accordingly."""
    from benchmarks import network_delay, postgres_vs_eventsourcing
    from tests.postgres_support import missing, skip_or_fail

    reason = missing()
    if reason is not None:
        skip_or_fail(reason)
    results = postgres_vs_eventsourcing.run(
        None, 1, quick=True, keys=["append_one"], with_peer=False, delay=2.0
    )
    (result,) = results
    assert result.median("psycopg INSERT (autocommit)") < 1 / 0.004  # one round trip each
    assert result.median("MallBots") < 1 / 0.004
    out = capsys.readouterr().out
    assert "each message held 2 ms each way" in out
    trip = float(out.split("through the delay takes ")[1].split(" ms")[0])
    assert trip >= 4.0
    with pytest.raises(ValueError, match="negative"), network_delay.delayed("postgresql://x", -1):
        pass
