"""How fast ``mallbots copy`` moves a shop: DuckDB file -> PostgreSQL -> DuckDB file.

A simulated shop (bulk, so its plain tables are filled too) is copied into a new
PostgreSQL database, back into a new DuckDB file, and from file to file, ``--rounds``
times; each direction's median rate is printed, in rows per second of the write side
(events, snapshots, continuations, plain tables) and in events per second.

Run ``python benchmarks/shop_copy.py`` (a throwaway cluster is started where
PostgreSQL's binaries are installed, and each round copies into a new database on it)
or pass ``--url postgresql://...`` of an empty database (then one round).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from benchmarks.postgres_server import server_url
from mallbots.local_postgres import scratch_database
from mallbots.shop_copy import copy_shop
from mallbots.simulator import PRESETS, simulate

DIRECTIONS = ("DuckDB -> PostgreSQL", "PostgreSQL -> DuckDB", "DuckDB -> DuckDB")


def measure(
    source: Path, folder: Path, new_database: Callable[[], AbstractContextManager[str]], rounds: int
) -> dict[str, list[tuple[int, float]]]:
    """(rows, seconds) of each copy, per direction."""
    runs: dict[str, list[tuple[int, float]]] = {direction: [] for direction in DIRECTIONS}
    for number in range(rounds):
        with new_database() as url:
            there = copy_shop(str(source), url)
            back = copy_shop(url, str(folder / f"back{number}.duckdb"))
        beside = copy_shop(str(source), str(folder / f"beside{number}.duckdb"))
        for direction, copied in zip(DIRECTIONS, (there, back, beside), strict=True):
            runs[direction].append((copied.total, copied.seconds))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=list(PRESETS), default="medium")
    parser.add_argument("--events", type=int, default=50_000, help="events in the shop")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--url", help="an empty PostgreSQL database (default: a throwaway cluster)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mallbots-copy-bench-") as name:
        folder = Path(name)
        config = PRESETS[args.preset].with_changes(max_events=args.events)
        source = folder / "shop.duckdb"
        shop, result = simulate(config, source, progress=False)
        shop.close()
        print(f"{args.preset!r} shop: {result.events:,} events; {args.rounds} round(s)")
        with server_url(args.url) as url:
            if args.url is None:  # a new database on the throwaway cluster each round
                runs = measure(source, folder, lambda: scratch_database(url, "copy"), args.rounds)
            else:
                runs = measure(source, folder, lambda: nullcontext(url), 1)
    for direction, copies in runs.items():
        rows = copies[0][0]
        seconds = statistics.median(seconds for _, seconds in copies)
        print(
            f"{direction:22} {rows:,} rows in {seconds:.2f} s (median): "
            f"{rows / seconds:,.0f} rows/s, {result.events / seconds:,.0f} events/s"
        )


if __name__ == "__main__":
    main()
