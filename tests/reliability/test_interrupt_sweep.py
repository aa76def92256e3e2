"""Ctrl-C and SIGKILL at random moments of each command-line command; nothing is lost.

Each command (``simulate`` in bulk and one command at a time, ``rebuild``, ``demo``) runs
as ``python -m mallbots`` and gets SIGINT or SIGKILL at a random moment: while Python
loads, mid-query, mid-commit, mid-checkpoint, at exit. Then the file is opened again and:

- stderr holds no traceback; after Ctrl-C the command exits 130 with one line (or 0 if
  it had finished), after SIGKILL it died (or had finished);
- ``check_database`` finds no problem;
- no event is lost or garbled: a simulation's log is a prefix of the same run left
  alone (the same seed gives the same log, byte for byte); ``rebuild`` leaves the log
  as it was; ``demo`` keeps the log it found and adds to it;
- every read model equals a rebuild from the log.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from mallbots.app import MallBots
from mallbots.cli import main
from mallbots.es.duckdb.check import check_database
from mallbots.ownership import EmptyDatabaseError
from mallbots.reading import event_tables, open_for_reading
from tests.reliability import figures

LOG_COLUMNS = "position, stream_name, stream_id, stream_version, event_id, event_name, event_data"


@dataclass(frozen=True)
class Command:
    name: str
    argv: tuple[str, ...]
    on_a_copy_of_a_shop: bool  # rebuild and demo work on an existing shop


COMMANDS = [
    Command("simulate (bulk)", ("simulate", "--events", "8000", "--no-progress"), False),
    Command(
        "simulate (per command)",
        ("simulate", "--events", "120", "--per-command", "--no-progress"),
        False,
    ),
    Command("rebuild", ("rebuild",), True),
    Command("demo", ("demo",), True),
]


def run(command: Command, path: Path) -> subprocess.Popen:
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    return subprocess.Popen(
        [sys.executable, "-m", "mallbots", *command.argv, "--db", str(path)],
        cwd=path.parent,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def outside_the_shops_code(err: str, status: int) -> bool:
    """Whether Ctrl-C came while Python itself started or ended, where it handles it.

    Before any of the shop's code runs (the site module, the package's nearly empty
    ``__init__``), Python prints its own traceback, or dies of SIGINT before it has a
    handler; after the command has returned, while Python shuts down, it dies of
    SIGINT. A shell shows 130 for each. The file is checked like any other all the same.
    """
    if status == -signal.SIGINT and "Traceback" not in err:
        return True
    if "Traceback" not in err or "Exception ignored" in err:  # a destructor: the shop's
        return False
    frames = [line for line in err.splitlines() if line.strip().startswith("File ")]
    shop_frames = [f for f in frames if "/mallbots/" in f and "/mallbots/__init__.py" not in f]
    return "init_import_site" in err or (bool(frames) and not shop_frames)


def log_of(path: Path) -> list[tuple]:
    """Every event of the file, in position order (opened read-only, changing nothing)."""
    try:
        database = open_for_reading(path)
    except EmptyDatabaseError:  # stopped as it was made: before its first table
        return []
    with database:
        if not event_tables(database):
            return []
        union = " UNION ALL ".join(
            f"SELECT {LOG_COLUMNS} FROM {table}" for table in event_tables(database)
        )
        return database.execute(f"SELECT * FROM ({union}) ORDER BY position").fetchall()


def read_models_and_rebuild(path: Path) -> tuple[dict, dict]:
    """The read models as the shop opens them (caught up), and as a rebuild makes them."""
    with MallBots.open(path) as shop:
        tables = [table for projection in shop.projector for table in projection.tables]
        opened = {table: shop.read_model(table) for table in tables}
        shop.projector.rebuild()
        rebuilt = {table: shop.read_model(table) for table in tables}
    return opened, rebuilt


@pytest.fixture(scope="module")
def references(tmp_path_factory) -> dict[str, tuple[Path, list[tuple], float]]:
    """Each command run once, left alone: its file, its log and how long it took."""
    folder = tmp_path_factory.mktemp("references")
    shop = folder / "shop.duckdb"
    assert main(["simulate", "--db", str(shop), "--events", "3000", "--no-progress"]) == 0
    found = {}
    for command in COMMANDS:
        path = folder / f"{command.argv[0]}-{len(found)}.duckdb"
        if command.on_a_copy_of_a_shop:
            shutil.copy(shop, path)
        started = time.perf_counter()
        process = run(command, path)
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        seconds = time.perf_counter() - started
        source = shop if command.on_a_copy_of_a_shop else path
        found[command.name] = (source, log_of(path), seconds)
    return found


def sweep(command: Command, references, tmp_path: Path, trials: int, seed: int) -> None:
    source, reference, seconds = references[command.name]
    before = log_of(source) if command.on_a_copy_of_a_shop else []
    rng = random.Random(seed)
    for trial in range(trials):
        path = tmp_path / f"trial-{trial}.duckdb"
        if command.on_a_copy_of_a_shop:
            shutil.copy(source, path)
        sent = signal.SIGINT if trial % 2 == 0 else signal.SIGKILL
        process = run(command, path)
        time.sleep(rng.uniform(0.05, seconds * 1.1))
        process.send_signal(sent)
        _, err = process.communicate(timeout=300)
        where = f"{command.name}, trial {trial}, {sent.name}"
        figures.count(f"CLI runs stopped by {'Ctrl-C' if sent == signal.SIGINT else 'SIGKILL'}")
        if sent == signal.SIGINT and outside_the_shops_code(err, process.returncode):
            figures.count("Ctrl-C in Python's own start or end, outside the shop's code")
        else:
            figures.count("tracebacks printed", "Traceback" in err)
            assert "Traceback" not in err, f"{where}:\n{err}"
            if sent == signal.SIGINT:
                assert process.returncode in (0, 130), f"{where}: {process.returncode}\n{err}"
                if process.returncode == 130:
                    (line,) = err.splitlines()
                    assert line.startswith("mallbots: error: interrupted"), line
                    figures.count("Ctrl-C told in one line, exit 130")
            else:
                assert process.returncode in (0, -signal.SIGKILL), f"{where}: {err}"
        if process.returncode == 0:
            figures.count("CLI runs that finished before the signal")
        if not path.exists():
            continue  # stopped before the file was made: nothing to lose
        log = log_of(path)
        if command.name.startswith("simulate"):
            kept = log == reference[: len(log)]
            lost = len(log) - sum(a == b for a, b in zip(log, reference, strict=False))
        else:
            kept = log[: len(before)] == before
            lost = len(before) - sum(a == b for a, b in zip(log, before, strict=False))
            if command.name == "rebuild":
                kept = kept and len(log) == len(before)
        figures.count("events lost or garbled by a stopped CLI command", max(lost, 0))
        assert kept, f"{where}: the log is not what was committed"
        with MallBots.open(path) as shop:
            report = check_database(shop.database, shop.registry, event_tables(shop.database))
        assert report.ok, f"{where}: {report}"
        opened, rebuilt = read_models_and_rebuild(path)
        unequal = [table for table in opened if not opened[table].equals(rebuilt[table])]
        figures.count("read models unlike a rebuild after a stopped CLI command", len(unequal))
        assert not unequal, f"{where}: {unequal}"
        figures.count("stopped CLI runs reopened and checked")


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command.name)
def test_a_stopped_command_loses_nothing(command, references, tmp_path):
    sweep(command, references, tmp_path, trials=2, seed=17)


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command.name)
def test_a_stopped_command_loses_nothing_many_times(command, references, tmp_path):
    sweep(command, references, tmp_path, trials=10, seed=int(time.time()))
