"""The committed sample log is what the simulator makes from its seed, event for event."""

from __future__ import annotations

from pathlib import Path

import duckdb

from mallbots.simulator import PRESETS, simulate
from mallbots.simulator.export import export_log

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "mallbots-sample.parquet"


def rows(path: Path) -> list[tuple]:
    with duckdb.connect() as connection:
        connection.execute("SET TimeZone = 'UTC'")
        return connection.execute("SELECT * FROM read_parquet($1)", [str(path)]).fetchall()


def test_regenerating_the_sample_with_its_seed_gives_the_same_events(tmp_path):
    shop, result = simulate(PRESETS["classroom"].with_changes(seed=42), progress=False)
    with shop:
        fresh = export_log(shop, tmp_path / "sample.parquet")
    committed = rows(SAMPLE)
    assert len(committed) == result.events
    assert rows(fresh) == committed


def test_the_sample_is_small_and_readable_with_plain_sql():
    assert SAMPLE.stat().st_size < 3 * 2**20
    with duckdb.connect() as connection:
        (names,) = connection.execute(
            "SELECT count(DISTINCT event_name) FROM read_parquet($1)", [str(SAMPLE)]
        ).fetchone()
    assert names == 18  # every event name of the catalog
