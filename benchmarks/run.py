"""Run the benchmark: MallBots on DuckDB beside ``eventsourcing`` on SQLite, in one run.

    python benchmarks/run.py            # every workload, full size (a few minutes)
    python benchmarks/run.py --quick    # a fast smoke run on small sizes
    python benchmarks/run.py --only load_snapshot commands --rounds 21

Each workload is measured on every side that implements it, alternating between the
sides round by round; the table shows each side's median and the ratio. Without the
``eventsourcing`` package (``pip install -e ".[bench]"``) only MallBots' figures (and
DuckDB's floor) are measured.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import duckdb_floor, mallbots_side, report
from benchmarks.timing import alternate
from benchmarks.workloads import WORKLOADS, by_key

FULL_ROUNDS = 9
QUICK_ROUNDS = 3


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few rounds")
    parser.add_argument("--mallbots-only", action="store_true", help="skip the eventsourcing peer")
    parser.add_argument("--rounds", type=int, help="timed rounds per workload")
    keys = list(dict.fromkeys(w.key for w in WORKLOADS))  # sizes of one workload share a key
    parser.add_argument("--only", nargs="+", metavar="KEY", help=f"workloads: {keys}")
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
    rounds = args.rounds or (QUICK_ROUNDS if args.quick else FULL_ROUNDS)
    sides = [mallbots_side]
    peer = None if args.mallbots_only else load_peer()
    if peer is not None:
        sides.append(peer)
    floor = duckdb_floor

    print("\n".join(report.machine()))
    print(f"{'quick' if args.quick else 'full'} run, {rounds} rounds per workload\n", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="mallbots-bench-") as tmp:
        for number, workload in enumerate(by_key(args.only)):
            params = workload.quick if args.quick else workload.params
            trials = {}
            for side in [*sides, floor]:
                make = side.TRIALS.get(workload.key)
                if make is None or (side is floor and not workload.against_floor):
                    continue
                workdir = Path(tmp) / f"{number}-{workload.key}-{side.__name__.split('.')[-1]}"
                workdir.mkdir()
                trials[side.NAME] = make(workdir, **params)
            try:
                figures = alternate(trials, min(rounds, workload.rounds or rounds))
            finally:
                for generator in trials.values():
                    generator.close()
            result = report.Result(workload, figures)
            results.append(result)
            summary = ", ".join(
                f"{name} {report.figure(result.median(name), workload.unit)}" for name in figures
            )
            print(f"{workload.title}: {summary} {workload.unit}", flush=True)

    names = [side.NAME for side in sides]
    print()
    print(report.tables(results, names, floor.NAME, quick=args.quick))
    return results


if __name__ == "__main__":
    main()
