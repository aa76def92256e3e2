"""Measuring a run: the workloads on every side and floor, and the options a run takes.

:mod:`benchmarks.run` (DuckDB) and :mod:`benchmarks.postgres_vs_eventsourcing` both
run through here, so their rounds, sizes and folders are settled alike.
"""

from __future__ import annotations

import argparse
import functools
import tempfile
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from types import ModuleType

from benchmarks import report
from benchmarks.workloads import Workload

FULL_ROUNDS = 9
QUICK_ROUNDS = 3


def options(keys: list[str]) -> argparse.ArgumentParser:
    """A parent parser with the options every run takes; ``keys``: the workloads known."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--quick", action="store_true", help="small sizes, few rounds")
    parser.add_argument("--mallbots-only", action="store_true", help="skip the eventsourcing peer")
    parser.add_argument("--rounds", type=int, help="timed rounds per workload")
    parser.add_argument("--only", nargs="+", metavar="KEY", help=f"workloads: {keys}")
    return parser


def rounds(args: argparse.Namespace) -> int:
    """The rounds asked for, or the quick or full run's default."""
    return args.rounds or (QUICK_ROUNDS if args.quick else FULL_ROUNDS)


def measure_all(
    workloads: Sequence[Workload],
    sides: Sequence[ModuleType],
    floors: Sequence[ModuleType],
    rounds: int,
    *,
    quick: bool = False,
    sizes: dict[str, dict] | None = None,
    given: Callable[[ExitStack], dict] = lambda _: {},
) -> list[report.Result]:
    """Measure each workload on every side whose ``TRIALS`` has it, and on the floors if
    it is measured against them; each side in a new folder, with the keyword arguments
    ``given`` makes for it (what it enters on the stack is left after the workload).

    Sizes: the workload's quick ones, else ``sizes`` of its key, else its full ones.
    """
    results = []
    with tempfile.TemporaryDirectory(prefix="mallbots-bench-") as tmp:
        for number, workload in enumerate(workloads):
            params = workload.quick if quick else (sizes or {}).get(workload.key, workload.params)
            with ExitStack() as stack:
                makers = {}
                for index, side in enumerate([*sides, *floors]):
                    make = side.TRIALS.get(workload.key)
                    if make is None or (side in floors and not workload.against_floor):
                        continue
                    workdir = Path(tmp) / f"{number}-{workload.key}-{index}"
                    workdir.mkdir()
                    makers[side.NAME] = functools.partial(make, workdir, **given(stack), **params)
                results.append(report.measure(workload, makers, rounds))
    return results
