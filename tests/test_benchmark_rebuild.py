"""The rebuild benchmark's log is a consistent shop: both rebuilds agree on it (no timings)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from mallbots import MallBots
from tests.test_books import read_models

SCRIPT = Path(__file__).parent.parent / "benchmarks" / "rebuild.py"


def load_benchmark():
    spec = importlib.util.spec_from_file_location("rebuild_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_log_rebuilds_alike_set_based_and_event_by_event(tmp_path):
    benchmark = load_benchmark()
    path = tmp_path / "small.duckdb"
    assert benchmark.build_log(path, 20_000) == 20_000
    applied, wall, cpu = benchmark.time_rebuild(path, set_based=True)
    assert applied == 20_000 and wall > 0 and cpu >= 0
    with MallBots.open(path) as shop:
        set_based = read_models(shop)
        assert len(set_based["products"]) == 1_100 - 110  # one product in ten removed
        assert min(row[5] for row in set_based["products"]) > 0
    assert benchmark.time_rebuild(path, set_based=False)[0] == 20_000
    with MallBots.open(path) as shop:
        assert read_models(shop) == set_based
    figures = {"events": 1, "build_seconds": 1.0, "load_average": 0.5, "cores": 2}
    for name in ("set_based", "per_event"):
        figures[name] = {
            "seconds": [2.0],
            "median_seconds": 2.0,
            "events_per_second": 5e5,
            "median_cpu_seconds": 2.0,
            "peak_mib": 300.0,
        }
    assert "[target 1,000,000: MISSED]" in benchmark.report(figures)
    assert "[target 100,000: met]" in benchmark.report(figures)
