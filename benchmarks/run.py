"""Run the benchmark: MallBots on DuckDB beside ``eventsourcing`` on SQLite, then on
PostgreSQL beside ``eventsourcing`` on PostgreSQL, in one run.

    python benchmarks/run.py            # every workload, full size (a few minutes)
    python benchmarks/run.py --quick    # a fast smoke run on small sizes
    python benchmarks/run.py --only load_snapshot commands --rounds 21
    python benchmarks/run.py --no-postgres    # DuckDB and SQLite only

Each workload is measured on every side that implements it, alternating between the
sides round by round; the table shows each side's median and the ratio. Without the
``eventsourcing`` package (``pip install -e ".[bench]"``) only MallBots' figures (and
DuckDB's floor) are measured. The PostgreSQL half
(:mod:`benchmarks.postgres_vs_eventsourcing`) runs on a throwaway cluster unless
``--url`` names a server; ``--only`` selects its workloads too. On throwaway clusters
it prints three tables: every workload on a cluster that flushes nothing (the worst case
for the ratios to a bare INSERT), then the single appends and commands again on a
durable one (``--no-durable`` skips that table), and through a proxy that delays each
message as a LAN would (``--no-delay`` skips that one).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import duckdb_floor, mallbots_side, report, runner
from benchmarks.workloads import WORKLOADS, by_key


def parse(argv: list[str] | None) -> argparse.Namespace:
    keys = list(dict.fromkeys(w.key for w in WORKLOADS))  # sizes of one workload share a key
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], parents=[runner.options(keys)]
    )
    parser.add_argument(
        "--no-postgres",
        dest="postgres",
        action="store_false",
        help="skip the PostgreSQL comparison (benchmarks/postgres_vs_eventsourcing.py)",
    )
    parser.add_argument(
        "--url", help="a PostgreSQL server for that comparison (default: a throwaway cluster)"
    )
    parser.add_argument(
        "--no-durable",
        dest="durable",
        action="store_false",
        help="skip the PostgreSQL table on a durable throwaway cluster",
    )
    parser.add_argument(
        "--no-delay",
        dest="delay",
        action="store_false",
        help="skip the PostgreSQL table through a delay as across a LAN",
    )
    return parser.parse_args(argv)


def load_peer():
    """The peer's module, or None (with a message saying why) if it cannot be used."""
    try:
        from benchmarks import peer_side
    except ImportError as error:
        print(
            f"The peer is not installed ({error}); measuring MallBots alone. "
            'Install it with: pip install -e ".[bench]"',
            flush=True,
        )
        return None
    return peer_side


def main(argv: list[str] | None = None) -> list[report.Result]:
    args = parse(argv)
    rounds = runner.rounds(args)
    sides = [mallbots_side]
    peer = None if args.mallbots_only else load_peer()
    if peer is not None:
        sides.append(peer)
    floor = duckdb_floor

    print("\n".join(report.machine()))
    print(f"{'quick' if args.quick else 'full'} run, {rounds} rounds per workload\n", flush=True)
    results = runner.measure_all(by_key(args.only), sides, [floor], rounds, quick=args.quick)
    names = [side.NAME for side in sides]
    print()
    print(report.tables(results, names, floor.NAME, quick=args.quick))
    if args.postgres:
        from benchmarks import postgres_vs_eventsourcing

        settings = [{}]
        if args.durable and args.url is None:
            settings.append({"durable": True})
        if args.delay:
            settings.append({"delay": postgres_vs_eventsourcing.LAN_DELAY})
        for setting in settings:
            postgres_vs_eventsourcing.run(
                args.url,
                rounds,
                quick=args.quick,
                keys=args.only,
                with_peer=peer is not None,
                **setting,
            )
    return results


if __name__ == "__main__":
    main()
