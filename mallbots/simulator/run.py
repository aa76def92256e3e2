"""Running a simulation: a fresh seeded shop, the activity, a runner, a progress bar.

``simulate(config, path)`` makes the shop on a new database file (or in memory, or on
PostgreSQL one command at a time; :func:`simulate_to_server` fills a server in bulk) with a
clock that starts on the first simulated day and ids seeded by ``config.seed``, runs
every step, and returns what it did. The same config gives the same log, byte for byte:
ids, times, payloads and positions.
"""

from __future__ import annotations

import contextlib
import gc
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from tqdm import tqdm

from mallbots.app import MallBots
from mallbots.es import Database, SeededIds, SteppingClock
from mallbots.es.duckdb.database import MEMORY
from mallbots.es.gc_pause import collector_paused
from mallbots.es.transfer import Copied
from mallbots.es.urls import is_server_url, shown
from mallbots.simulator.activity import Activity
from mallbots.simulator.bulk import BulkRunner
from mallbots.simulator.config import SimulationConfig
from mallbots.simulator.one_by_one import CommandRunner

CLOCK_STEP = timedelta(milliseconds=1)
"""How far the shop's clock moves per reading between two steps of the activity."""


@dataclass(frozen=True)
class SimulationResult:
    """What a run did: events recorded, simulated days, wall-clock seconds."""

    events: int
    days: int
    seconds: float
    bulk: bool

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else float("inf")


def simulation_shop(config: SimulationConfig, path: str | Path = MEMORY) -> MallBots:
    """A new shop for a simulation: seeded ids and a 1 ms clock at the first day.

    The database must hold no events: the activity's ids would collide with a shop's
    earlier ones. A DuckDB database, or a PostgreSQL one (a ``postgresql://`` URL: each
    step is then a command on the server, its read models in memory); a bulk run needs
    DuckDB (:func:`simulate_to_server` runs one and copies it to a server).
    """
    clock = SteppingClock(config.start, CLOCK_STEP)
    if is_server_url(path):
        from mallbots.es.postgres import PostgresDatabase  # the driver, only when asked

        database = PostgresDatabase.open(str(path))
    else:
        database = Database.open(path)
    try:
        shop = MallBots(database, clock=clock, ids=SeededIds(config.seed))
        if shop.log.count():
            raise ValueError(f"{shown(path)} already holds events; simulate into a new database")
        return shop
    except BaseException:
        database.close()
        raise


def run_simulation(
    shop: MallBots,
    config: SimulationConfig,
    *,
    bulk: bool = True,
    progress: bool | None = None,
    batch_size: int = 50_000,
) -> SimulationResult:
    """Run the activity of ``config`` on a shop made by :func:`simulation_shop`.

    Every step is one ``shop.execute``: with ``bulk``, on a unit of work that batches
    (fast, :mod:`mallbots.simulator.bulk`); otherwise each is its own transaction.
    ``progress`` shows a bar (None: only on a terminal).
    """
    clock = shop.clock
    if not isinstance(clock, SteppingClock):
        raise TypeError("a simulation needs a SteppingClock (see simulation_shop)")
    runner = BulkRunner(shop, clock, batch_size) if bulk else CommandRunner(shop, clock)
    started = time.perf_counter()
    days = 0
    with _bar(config, progress) as bar, _cycle_collector_paused(), _aborting(runner):
        for day, steps in Activity(config).days():
            before = runner.events
            for step in steps:
                runner.run(step)
                if config.max_events is not None and runner.events >= config.max_events:
                    break
            days = day + 1
            bar.update(runner.events - before if config.max_events else 1)
            bar.set_postfix(day=days, events=f"{runner.events:,}", refresh=False)
            if config.max_events is not None and runner.events >= config.max_events:
                break
        runner.finish()
    return SimulationResult(runner.events, days, time.perf_counter() - started, bulk)


def simulate(
    config: SimulationConfig,
    path: str | Path = MEMORY,
    *,
    bulk: bool = True,
    progress: bool | None = None,
) -> tuple[MallBots, SimulationResult]:
    """Simulate ``config`` into a new database (in memory by default); returns the shop.

    On PostgreSQL (a URL) only one step at a time (``bulk=False``); for a bulk run
    there, see :func:`simulate_to_server`."""
    if bulk and is_server_url(path):
        raise ValueError(
            f"a bulk simulation writes a DuckDB database, not {shown(path)}: "
            "run it one command at a time (bulk=False), or use simulate_to_server"
        )
    shop = simulation_shop(config, path)
    try:
        return shop, run_simulation(shop, config, bulk=bulk, progress=progress)
    except BaseException:
        shop.close()
        raise


@contextmanager
def _aborting(runner: BulkRunner | CommandRunner) -> Iterator[None]:
    """On an error, let the runner drop what it has not written (the error still raises)."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):  # the first error is the one to report
            runner.abort()
        raise


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector for the run, and collect once at the end.

    A run allocates millions of small objects (events, payloads, rows) that stay alive
    until their batch is written; the collector would walk them over and over, which
    costs about a third of the run's time. They hold no reference cycles, so reference
    counting frees them as each batch is written, collector or not.
    """
    try:
        with collector_paused():
            yield
    finally:
        gc.collect()


def _bar(config: SimulationConfig, progress: bool | None) -> tqdm:
    disable = None if progress is None else not progress  # None: only on a terminal
    if config.max_events is not None:
        return tqdm(total=config.max_events, unit="event", disable=disable, unit_scale=True)
    return tqdm(total=config.days, unit="day", disable=disable)


def simulate_to_server(
    config: SimulationConfig,
    url: str,
    *,
    progress: bool | None = None,
    before_copy: Callable[[MallBots], None] | None = None,
) -> tuple[SimulationResult, Copied]:
    """Simulate ``config`` in bulk into a temporary DuckDB file, then copy its write side
    to the PostgreSQL database at ``url`` (:func:`mallbots.shop_copy.copy_shop`, one
    transaction on the server): the server's log is the file's, byte for byte.

    A server that already holds a shop's rows is refused before simulating, as the copy
    would refuse it. ``before_copy`` gets the simulated shop (to export its log ...).
    """
    from mallbots.shop_copy import copy_shop, refuse_full_target

    refuse_full_target(url)
    with tempfile.TemporaryDirectory(prefix="mallbots-simulate-") as folder:
        file = Path(folder) / "mall.duckdb"
        shop, result = simulate(config, file, progress=progress)
        with shop:
            if before_copy is not None:
                before_copy(shop)
        return result, copy_shop(str(file), url)
