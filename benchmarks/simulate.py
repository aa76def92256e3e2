"""Measure the simulator: the classroom preset, and a million events to a file.

    python benchmarks/simulate.py            # 3 runs of each, medians printed
    python benchmarks/simulate.py --runs 5 --presets classroom
    python benchmarks/simulate.py --stages --presets million   # where the time goes

Each run is a fresh subprocess (so peak memory is that run's own, read with
``resource.getrusage``), simulating into a new DuckDB file in a temporary folder with
the bulk path. Timings on a shared machine are noisy: compare medians, and read the
CPU seconds (both threads, the whole process) as the figure load does not inflate.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def child(preset: str, path: str) -> None:
    """One run in this process; prints a JSON line with its figures."""
    started = time.perf_counter()
    from mallbots.simulator import PRESETS, simulate

    imported = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_SELF)
    shop, result = simulate(PRESETS[preset], path, progress=False)
    shop.close()
    finished = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = usage.ru_maxrss / 1024  # KiB on Linux
    print(
        json.dumps(
            {
                "events": result.events,
                "simulate_s": result.seconds,
                "end_to_end_s": finished - imported,
                "import_s": imported - started,
                "peak_mib": peak,
                "cpu_s": usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime,
            }
        )
    )


def writing_nothing(serialize: bool) -> None:
    """Make every bulk writer of this process write nothing: its batches are still cut
    (and, with ``serialize``, serialized as for DuckDB), then dropped."""
    from mallbots.es.duckdb.bulk import BulkWriter, _Prepared

    BulkWriter._write = lambda self, prepared: prepared.events  # type: ignore[method-assign]
    if not serialize:
        BulkWriter._prepare = lambda self, batch: _Prepared(batch.events, [], [])  # type: ignore[method-assign]


def stages_child(preset: str, serialize: bool = False) -> None:
    """The run's Python work alone, in two parts: the activity deciding what happens,
    and the shop's commands doing it (every rule, handler and plain-table row, each
    event recorded); nothing is written, and nothing serialized unless ``serialize``:
    then the commands' part includes serializing every batch and snapshot as the bulk
    writer does, the last batch too. Prints a JSON line with each part's seconds."""
    from mallbots.es.gc_pause import collector_paused
    from mallbots.simulator import PRESETS, simulation_shop
    from mallbots.simulator.activity import Activity
    from mallbots.simulator.bulk import BulkRunner

    writing_nothing(serialize)
    config = PRESETS[preset]
    shop = simulation_shop(config)
    runner = BulkRunner(shop, shop.clock)
    activity_s = commands_s = 0.0
    limit = config.max_events or float("inf")
    with collector_paused():
        days = Activity(config).days()
        while runner.events < limit:
            started = time.perf_counter()
            today = next(days, None)
            activity_s += time.perf_counter() - started
            if today is None:
                break
            _, steps = today
            started = time.perf_counter()
            for step in steps:
                runner.run(step)
                if runner.events >= limit:
                    break
            commands_s += time.perf_counter() - started
        started = time.perf_counter()
        runner.writer.flush()  # a serializing writer serializes its last batch here
        commands_s += time.perf_counter() - started
    runner.abort()
    shop.close()
    print(json.dumps({"events": runner.events, "activity_s": activity_s, "commands_s": commands_s}))


def _child_figures(*child_args: str) -> dict:
    """Run this script as a child with ``child_args``; the JSON line it printed last."""
    done = subprocess.run(
        [sys.executable, __file__, *child_args], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.splitlines()[-1])


def run(preset: str) -> dict:
    """One whole run into a new file in a fresh process: its figures and the file's size."""
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "shop.duckdb")
        figures = _child_figures("--child", preset, path)
        figures["file_mib"] = Path(path).stat().st_size / 2**20
        return figures


def print_stages(preset: str, runs: int) -> None:
    """Median seconds of the run's parts: its Python work alone, and the whole run."""
    trials = [
        (
            _child_figures("--stages-child", preset),
            _child_figures("--stages-child", preset, "--serialize"),
            run(preset),
        )
        for _ in range(runs)
    ]
    activity = statistics.median(parts["activity_s"] for parts, _, _ in trials)
    commands = statistics.median(parts["commands_s"] for parts, _, _ in trials)
    serialized = statistics.median(parts["commands_s"] for _, parts, _ in trials)
    total = statistics.median(whole["end_to_end_s"] for _, _, whole in trials)
    rest = statistics.median(
        w["end_to_end_s"] - p["activity_s"] - p["commands_s"] for p, _, w in trials
    )
    print(f"{preset}: medians of {runs} runs (the Python work alone, then the whole run)")
    print(f"  the activity deciding what happens      {activity:7.2f} s")
    print(f"  the shop's commands, writing nothing     {commands:7.2f} s")
    print(f"  the same, batched and serialized too    {serialized:7.2f} s")
    print(f"  saving, catching up, closing (the rest) {rest:7.2f} s")
    print(f"  the whole run, end to end               {total:7.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--presets", nargs="+", default=["classroom", "million"])
    parser.add_argument("--stages", action="store_true", help="time the parts of each run")
    parser.add_argument("--child", nargs=2, metavar=("PRESET", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--stages-child", metavar="PRESET", help=argparse.SUPPRESS)
    parser.add_argument("--serialize", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.stages_child:
        stages_child(args.stages_child, args.serialize)
        return
    if args.stages:
        for preset in args.presets:
            print_stages(preset, args.runs)
        return
    header = ("preset", "events", "seconds", "events/s", "CPU s", "peak MiB", "file MiB")
    print(f"{header[0]:<10}" + "".join(f" {name:>9}" for name in header[1:]))
    for preset in args.presets:
        runs = [run(preset) for _ in range(args.runs)]
        median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        print(
            f"{preset:<10} {median['events']:>9,.0f} {median['end_to_end_s']:>9.2f} "
            f"{median['events'] / median['end_to_end_s']:>9,.0f} {median['cpu_s']:>9.1f} "
            f"{median['peak_mib']:>9.0f} "
            f"{median['file_mib']:>9.1f}",
            flush=True,
        )
        seconds = ", ".join(f"{r['end_to_end_s']:.2f}" for r in runs)
        print(f"{'':<10} runs: {seconds} s (end to end: shop opened, simulated, caught up, closed)")


if __name__ == "__main__":
    main()
