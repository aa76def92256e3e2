"""Measure the simulator: the classroom preset, and a million events to a file.

    python benchmarks/simulate.py            # 3 runs of each, medians printed
    python benchmarks/simulate.py --runs 5 --presets classroom

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


def run(preset: str) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "shop.duckdb")
        done = subprocess.run(
            [sys.executable, __file__, "--child", preset, path],
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(done.stdout.splitlines()[-1])
        figures["file_mib"] = Path(path).stat().st_size / 2**20
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--presets", nargs="+", default=["classroom", "million"])
    parser.add_argument("--child", nargs=2, metavar=("PRESET", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
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
