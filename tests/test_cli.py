"""The command line: the demo runs on a database file; bad arguments fail in one line."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

from mallbots.cli import main
from tests.processes import held


def mallbots(*args: str, cwd=None) -> subprocess.CompletedProcess:
    """``python -m mallbots`` with ``args``, in ``cwd`` (or here), given two minutes."""
    return subprocess.run(
        [sys.executable, "-m", "mallbots", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_demo_runs_on_the_default_file_and_prints_the_read_models(tmp_path):
    done = mallbots("demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "mallbots.duckdb").exists()
    assert "stores.stores:" in done.stdout and "stores.products:" in done.stdout
    assert "Waldorf Widgets" in done.stdout and "19.99" in done.stdout
    assert done.stderr == ""


def test_a_bad_argument_fails_with_one_line_and_no_traceback(tmp_path):
    done = mallbots("demo", "--bogus", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "mallbots: error: unrecognized arguments: --bogus (see mallbots --help)"
    ]


@pytest.mark.parametrize(
    ("argv", "status", "error"),
    [
        ([], 2, "the following arguments are required: COMMAND (see mallbots --help)"),
        (["shop"], 2, "argument COMMAND: invalid choice: 'shop'"),
        (["demo", "--seed", "x"], 2, "argument --seed: expected a whole number from 0 to"),
        (["demo", "--db", "/no/such/dir/x.duckdb"], 1, "Cannot open file"),
    ],
)
def test_every_failure_is_one_line_with_a_status(capsys, argv, status, error):
    assert main(argv) == status
    captured = capsys.readouterr()
    (line,) = captured.err.splitlines()
    assert line.startswith("mallbots: error: ") and error in line


def test_the_demo_is_seeded_and_repeatable_on_a_given_file(tmp_path, capsys):
    outputs = []
    for name in ("a", "b"):
        assert main(["demo", "--db", str(tmp_path / f"{name}.duckdb"), "--seed", "9"]) == 0
        outputs.append(capsys.readouterr().out.replace(f"{name}.duckdb", "X"))
    assert outputs[0] == outputs[1]


def test_help_names_the_default_database(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["demo", "--help"])
    assert exit.value.code == 0
    assert "default: mallbots.duckdb in the current directory" in " ".join(
        capsys.readouterr().out.split()
    )


# --- simulate, stats, rebuild, events, check ---------------------------------------------------


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    done = mallbots("simulate", "--seed", "3", "--events", "600", "--no-progress", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert "600 events" in done.stdout or "601 events" in done.stdout
    return folder


def test_simulate_refuses_to_overwrite_unless_asked(simulated, tmp_path):
    done = mallbots("simulate", "--events", "50", cwd=simulated)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "mallbots: error: mallbots.duckdb exists; pass --overwrite to replace it"
    ]
    parquet = tmp_path / "log.parquet"
    done = mallbots(
        "simulate",
        "--db",
        str(tmp_path / "x.duckdb"),
        "--events",
        "50",
        "--parquet",
        str(parquet),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert parquet.stat().st_size > 0


def test_stats_shows_lifetimes_and_counts(simulated):
    done = mallbots("stats", cwd=simulated)
    assert done.returncode == 0, done.stderr
    assert "Stream lifetimes:" in done.stdout and "Events per type:" in done.stdout
    assert "baskets.BasketItemAdded" in done.stdout


def test_rebuild_times_each_projection(simulated):
    done = mallbots("rebuild", cwd=simulated)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "stores.mall",
        "stores.catalog",
        "reporting.history",
        "reporting.sales",
    ]
    assert all(" s" in line for line in lines)


def test_events_filters_by_stream_and_name_and_keeps_the_last(simulated):
    done = mallbots("events", "--name", "stores.StoreCreated", "--last", "2", cwd=simulated)
    assert done.returncode == 0, done.stderr
    rows = done.stdout.splitlines()[1:]
    assert len(rows) == 2 and all("stores.StoreCreated" in row for row in rows)
    done = mallbots("events", "--stream", "nope.Nothing", cwd=simulated)
    assert done.stdout.strip() == "no events match"


def test_check_finds_no_problem_in_a_simulated_log(simulated):
    done = mallbots("check", cwd=simulated)
    assert done.returncode == 0, done.stderr
    assert "no problems found" in done.stdout


def test_a_stopped_rebuild_changes_nothing_and_check_needs_no_shop(tmp_path, capsys):
    """A damaged event stops a rebuild, which leaves the read model as it was. A shop
    whose read model is behind the damage cannot open; stats and check need no shop."""
    path = str(tmp_path / "mall.duckdb")
    assert main(["simulate", "--db", path, "--events", "300", "--no-progress"]) == 0
    with duckdb.connect(path) as con:
        con.execute("UPDATE stores.events SET event_data = '{bad' WHERE position = 1")
        stores = con.execute("SELECT * FROM stores.stores ORDER BY ALL").fetchall()
    assert main(["rebuild", "--db", path, "stores.mall"]) == 1
    assert main(["stats", "--db", path]) == 0  # the read models were left as they were
    with duckdb.connect(path) as con:
        assert con.execute("SELECT * FROM stores.stores ORDER BY ALL").fetchall() == stores
        con.execute("UPDATE projections.checkpoints SET position = 0 WHERE name = 'stores.mall'")
    capsys.readouterr()
    assert main(["stats", "--db", path]) == 0  # reading only: it says so, writes nothing
    assert "note: read models behind the log" in capsys.readouterr().err
    assert main(["rebuild", "--db", path]) == 1  # a shop's catch-up meets the damage
    capsys.readouterr()
    assert main(["check", "--db", path]) == 1
    report = capsys.readouterr()
    assert "1 problem(s): 1 event data is not JSON" in report.out
    assert "stores.events: stores.Store" in report.out
    assert report.err.startswith("note: read models behind the log")  # said, not written


@pytest.mark.parametrize(
    ("argv", "status", "error"),
    [
        (["stats", "--db", "missing.duckdb"], 2, "no database file missing.duckdb"),
        (["rebuild", "--db", "missing.duckdb"], 2, "no database file missing.duckdb"),
        (["events", "--db", "missing.duckdb"], 2, "no database file missing.duckdb"),
        (["check", "--db", "missing.duckdb"], 2, "no database file missing.duckdb"),
        (["simulate", "--preset", "huge"], 2, "argument --preset: invalid choice: 'huge'"),
        (["simulate", "--events", "0"], 2, "expected a whole number from 1 to 1,000,000,000"),
        (["events", "--last", "x"], 2, "argument --last: expected a whole number from 1 to"),
    ],
)
def test_bad_arguments_and_missing_files_fail_in_one_line(tmp_path, argv, status, error):
    done = mallbots(*argv, cwd=tmp_path)
    assert done.returncode == status
    (line,) = done.stderr.splitlines()
    assert line.startswith("mallbots: error: ") and error in line, line
    assert not (tmp_path / "missing.duckdb").exists()


def test_rebuild_of_an_unknown_projection_names_the_known_ones(simulated):
    done = mallbots("rebuild", "stores.nope", cwd=simulated)
    assert done.returncode == 2
    assert "no projection 'stores.nope'; the shop has: stores.mall, stores.catalog" in done.stderr


def test_a_file_held_by_another_process_is_one_line(simulated):
    with held(simulated / "mallbots.duckdb", "rw"):
        done = mallbots("stats", cwd=simulated)
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert "is open read-write in process" in line and "Traceback" not in done.stderr


def test_overwrite_leaves_a_file_another_process_has_open(tmp_path):
    path = tmp_path / "mall.duckdb"
    assert main(["demo", "--db", str(path)]) == 0
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE notes AS SELECT 'kept' AS note")
    with held(path, "rw"):
        done = mallbots(
            "simulate", "--db", str(path), "--overwrite", "--events", "50", cwd=tmp_path
        )
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert "is open read-write in process" in line
    with duckdb.connect(str(path)) as con:
        assert con.execute("SELECT note FROM notes").fetchall() == [("kept",)]
    done = mallbots("simulate", "--db", str(path), "--overwrite", "--events", "50", cwd=tmp_path)
    assert done.returncode == 0, done.stderr  # nobody holds it now: replaced


@pytest.mark.parametrize("kind", ["empty database", "empty file"])
def test_reading_commands_leave_an_empty_database_untouched(tmp_path, kind):
    path = tmp_path / "empty.duckdb"
    if kind == "empty file":
        path.touch()
    else:
        duckdb.connect(str(path)).close()
    before = path.read_bytes()
    for command in ("stats", "rebuild", "events", "check"):
        done = mallbots(command, "--db", str(path), cwd=tmp_path)
        assert done.returncode == 2
        assert done.stderr.splitlines() == [
            f"mallbots: error: {path} holds no MallBots shop (it is empty); nothing changed"
        ]
    assert path.read_bytes() == before


def test_help_lists_every_command(tmp_path):
    done = mallbots("--help", cwd=tmp_path)
    assert done.returncode == 0
    for command in ("demo", "simulate", "stats", "rebuild", "events", "check", "copy"):
        assert f"    {command}" in done.stdout
