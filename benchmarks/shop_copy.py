"""How fast ``mallbots copy`` moves a shop: DuckDB file -> PostgreSQL -> DuckDB file.

A simulated shop (bulk, so its plain tables are filled too) is copied into a new
PostgreSQL database, back into a new DuckDB file, and from file to file, ``--rounds``
times; each direction's median rate is printed, in rows per second of the write side
(events, snapshots, continuations, plain tables) and in events per second.

Run ``python benchmarks/shop_copy.py`` (a throwaway cluster is started where
PostgreSQL's binaries are installed) or pass ``--url postgresql://...`` of a server
where this user may create databases... for a given database, ``--rounds 1``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

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


@contextmanager
def given_database(url: str) -> Iterator[str]:
    yield url


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
        shop, result = simulate(config, folder / "shop.duckdb", progress=False)
        shop.close()
        print(f"{args.preset!r} shop: {result.events:,} events; {args.rounds} round(s)")
        if args.url:
            runs = measure(folder / "shop.duckdb", folder, lambda: given_database(args.url), 1)
        else:
            from mallbots.local_postgres import missing, throwaway_cluster

            if (reason := missing()) is not None:
                raise SystemExit(f"give --url: cannot start a throwaway PostgreSQL ({reason})")
            with throwaway_cluster() as cluster:
                runs = measure(folder / "shop.duckdb", folder, cluster.database, args.rounds)
    for direction, copies in runs.items():
        rows = copies[0][0]
        seconds = statistics.median(seconds for _, seconds in copies)
        print(
            f"{direction:22} {rows:,} rows in {seconds:.2f} s (median): "
            f"{rows / seconds:,.0f} rows/s, {result.events / seconds:,.0f} events/s"
        )


if __name__ == "__main__":
    main()
