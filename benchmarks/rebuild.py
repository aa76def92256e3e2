"""Benchmark: rebuilding the mall and catalog from a log of a million events.

    python benchmarks/rebuild.py [--events N] [--runs R] [--keep PATH]

Builds a log of store and product events straight into ``stores.events`` (one columnar
``INSERT ... SELECT``: the benchmark is about reading the log, not writing it), then
measures, each ``--runs`` times and reports the median:

- the set-based rebuild of the mall and catalog (one SQL pass each),
- the per-event rebuild (every event decoded and handled in Python, i.e. a catch-up
  from position 0),
- the peak resident memory of each, each in a fresh process (``VmHWM``, or
  ``getrusage`` where there is no ``/proc``).

Targets: set-based >= 1,000,000 events/s, per-event >= 100,000 events/s, peak <= 1 GiB.
Import :func:`run` to get the figures as a dict (``benchmarks/run.py`` can wire it in).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mallbots import MallBots

PROJECTIONS = ["stores.mall", "stores.catalog"]
EVENTS_PER_STORE = 1_000
"""One store per thousand events of the log (a thousand stores in a million events)."""
STORE_EVENTS = 10
"""Each store: created, then participation toggled and rebranded in turn."""
PRODUCT_EVENTS = 18
"""Each product: added, then mostly price changes, some rebrands; one in ten removed."""

TARGETS = {"set_based": 1_000_000, "per_event": 100_000, "peak_mib": 1024}


def build_log(path: Path, events: int = 1_000_000) -> int:
    """A shop file whose ``stores.events`` holds ``events`` realistic events; returns the count.

    Streams interleave as in a busy mall: each stream has its own start and pace, and the
    positions follow time. Every store is created (by second ``stores + 6000``) before
    any product is added.
    """
    stores = max(1, events // EVENTS_PER_STORE)
    products = (events - stores * STORE_EVENTS) // PRODUCT_EVENTS
    with MallBots.open(path) as shop:
        shop.database.execute(
            f"""
            INSERT INTO stores.events
            WITH stores AS (
                SELECT 'store-' || s AS stream_id, 'stores.Store' AS stream_name, v AS version,
                    CASE WHEN v = 1 THEN 'stores.StoreCreated'
                         WHEN v % 3 = 0 THEN 'stores.StoreRebranded'
                         WHEN v % 3 = 2 THEN 'stores.StoreParticipationEnabled'
                         ELSE 'stores.StoreParticipationDisabled' END AS event_name,
                    CASE WHEN v = 1 THEN json_object('name', 'Store ' || s,
                                                     'location', 'Level ' || s % 5)
                         WHEN v % 3 = 0 THEN json_object('name', 'Store ' || s || ' mk' || v)
                         ELSE json_object('participating', v % 3 = 2) END::VARCHAR AS data,
                    s + v * (1000 + hash(s) % 5000) AS moment
                FROM range({stores}) a(s), range(1, {STORE_EVENTS} + 1) b(v)
            ), products AS (
                SELECT 'product-' || p AS stream_id, 'stores.Product' AS stream_name,
                    v AS version,
                    CASE WHEN v = 1 THEN 'stores.ProductAdded'
                         WHEN v = {PRODUCT_EVENTS} AND p % 10 = 0 THEN 'stores.ProductRemoved'
                         WHEN v % 7 = 0 THEN 'stores.ProductRebranded'
                         WHEN v % 2 = 0 THEN 'stores.ProductPriceIncreased'
                         ELSE 'stores.ProductPriceDecreased' END AS event_name,
                    CASE WHEN v = 1 THEN json_object(
                            'store_id', 'store-' || p % {stores}, 'name', 'Product ' || p,
                            'description', 'A fine thing', 'sku', 'SKU-' || p,
                            'price', (10 + p % 90) || '.99')
                         WHEN v = {PRODUCT_EVENTS} AND p % 10 = 0 THEN json_object()
                         WHEN v % 7 = 0 THEN json_object(
                            'name', 'Product ' || p || ' mk' || v, 'description', 'Better')
                         WHEN v % 2 = 0 THEN json_object('delta', '0.50')
                         ELSE json_object('delta', '-0.25') END::VARCHAR AS data,
                    {stores} + 6000 + p + v * (100 + hash(p) % 20000) AS moment
                FROM range({products}) a(p), range(1, {PRODUCT_EVENTS} + 1) b(v)
            ), everything AS (SELECT * FROM stores UNION ALL SELECT * FROM products)
            SELECT row_number() OVER (ORDER BY moment, stream_id) AS position,
                stream_id, stream_name, version,
                md5(stream_name || '/' || stream_id || '/' || version)::UUID,
                event_name, data,
                CASE WHEN event_name = 'stores.ProductAdded'
                     THEN '{{"schema_version":2}}' ELSE '{{}}' END,
                TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(moment)
            FROM everything
            """
        )
        shop.projector.rebuild(set_based=True)  # so that opening the shop has nothing to catch up
        shop.database.execute("CHECKPOINT")
        return shop.log.count()


def time_rebuild(path: Path, set_based: bool) -> tuple[int, float, float]:
    """(events taken into account, wall seconds, CPU seconds) of one rebuild.

    CPU seconds count every thread of the process (DuckDB's too): on a shared machine
    they say what the work costs, where wall seconds also say who else was running.
    """
    with MallBots.open(path) as shop:
        started, cpu = time.perf_counter(), time.process_time()
        applied = shop.projector.rebuild(PROJECTIONS, set_based=set_based)
        return applied, time.perf_counter() - started, time.process_time() - cpu


def peak_mib(path: Path, set_based: bool) -> float:
    """The peak resident memory of a fresh process that opens the shop and rebuilds once."""
    mode = "set-based" if set_based else "per-event"
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(done.stdout.strip())


def run(events: int = 1_000_000, runs: int = 3, keep: Path | None = None) -> dict:
    """Build the log, measure both rebuilds; returns the figures (medians) as a dict."""
    with tempfile.TemporaryDirectory() as folder:
        path = keep or Path(folder) / "rebuild.duckdb"
        started = time.perf_counter()
        if path.exists():  # a kept log from an earlier run
            with MallBots.open(path) as shop:
                count = shop.log.count()
        else:
            count = build_log(path, events)
        figures: dict = {
            "events": count,
            "build_seconds": time.perf_counter() - started,
            "load_average": os.getloadavg()[0],
            "cores": os.cpu_count(),
        }
        for name, set_based in (("set_based", True), ("per_event", False)):
            seconds, cpu = [], []
            for _ in range(runs):
                applied, elapsed, used = time_rebuild(path, set_based)
                seconds.append(elapsed)
                cpu.append(used)
            median = statistics.median(seconds)
            figures[name] = {
                "seconds": seconds,
                "median_seconds": median,
                "events_per_second": applied / median,
                "median_cpu_seconds": statistics.median(cpu),
                "peak_mib": peak_mib(path, set_based),
            }
        return figures


def report(figures: dict) -> str:
    """The figures as lines of text, each against its target."""
    lines = [
        f"log: {figures['events']:,} events, built in {figures['build_seconds']:.1f} s; "
        f"load average {figures['load_average']:.1f} on {figures['cores']} cores"
    ]
    for name in ("set_based", "per_event"):
        f = figures[name]
        rate_ok = f["events_per_second"] >= TARGETS[name]
        memory_ok = f["peak_mib"] <= TARGETS["peak_mib"]
        lines.append(
            f"{name.replace('_', '-'):>10} rebuild: median {f['median_seconds']:.2f} s "
            f"({', '.join(f'{s:.2f}' for s in f['seconds'])}) = "
            f"{f['events_per_second']:,.0f} events/s "
            f"[target {TARGETS[name]:,}: {'met' if rate_ok else 'MISSED'}], "
            f"CPU median {f['median_cpu_seconds']:.2f} s; "
            f"peak {f['peak_mib']:.0f} MiB "
            f"[target {TARGETS['peak_mib']}: {'met' if memory_ok else 'MISSED'}]"
        )
    return "\n".join(lines)


def _child(mode: str, path: str) -> None:
    time_rebuild(Path(path), set_based=mode == "set-based")
    print(_peak_resident_mib())


def _peak_resident_mib() -> float:
    """This process's peak resident memory, in MiB.

    Linux's ``getrusage`` keeps, across ``exec``, the peak of the process image it
    replaced: a child forked from a big benchmark reports the parent's size. The
    kernel's ``VmHWM`` belongs to the new image alone, so it is read where it exists.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--keep", type=Path, help="build the log in this file and keep it (or reuse it)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.child:
        _child(*arguments.child)
        return
    figures = run(arguments.events, arguments.runs, arguments.keep)
    print(json.dumps(figures, indent=2) if arguments.json else report(figures))


if __name__ == "__main__":
    main()
