"""The benchmark's bare command does the work it claims: a read, then a counted insert.

Its figure bounds what MallBots' commands can reach (``benchmarks/postgres_floor.py``),
so a bare command that skipped its read or its counter would make the bound a lie.
"""

from __future__ import annotations

import psycopg

from benchmarks import postgres_floor
from mallbots.es.postgres.schema import POSITION_TABLE


def test_each_bare_command_reads_its_stream_and_appends_its_next_event_at_the_next_position(
    postgres_url, tmp_path
):
    trials = postgres_floor.bare_commands(tmp_path, aggregates=3, commands=7, url=postgres_url)
    try:
        rates = [next(trials), next(trials)]
    finally:
        trials.close()
    assert all(rate > 0 for rate in rates)
    with psycopg.connect(postgres_url) as connection:
        rows = connection.execute(
            f"SELECT position, stream_id, stream_version FROM {postgres_floor.TABLE} "
            "ORDER BY position"
        ).fetchall()
        (counter,) = connection.execute(f"SELECT last_position FROM {POSITION_TABLE}").fetchone()
    assert [position for position, *_ in rows] == list(range(1, 3 + 2 * 7 + 1))
    assert counter == len(rows)
    versions: dict[str, list[int]] = {}
    for _, stream_id, version in rows:
        versions.setdefault(stream_id, []).append(version)
    # 3 streams opened, then each trial's 7 commands from stream 1 round: 1, 2, 3, 1, 2, 3, 1
    assert versions == {
        "account-1": [1, 2, 3, 4, 5, 6, 7],
        "account-2": [1, 2, 3, 4, 5],
        "account-3": [1, 2, 3, 4, 5],
    }


def test_the_bare_command_is_measured_on_the_command_workloads_only():
    assert set(postgres_floor.BARE_COMMAND.TRIALS) == set(postgres_floor.COMMAND_KEYS)
    assert "append_one" not in postgres_floor.BARE_COMMAND.TRIALS
    assert postgres_floor.BARE_COMMAND not in postgres_floor.FLOORS
