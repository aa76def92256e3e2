"""The classroom: student processes, the class's server, and the sequence race."""

from __future__ import annotations

import pytest

from tests.postgres_support import NO_PSYCOPG

pytest.importorskip("psycopg", reason=NO_PSYCOPG)

import os

import psycopg

from mallbots.classroom import CLASS_URL, Classroom, ClassServer
from mallbots.classroom.race import RaceResult, race
from tests.storage.classroom_calls import fail, recall, remember


def test_each_student_is_a_process_of_its_own_that_keeps_what_its_calls_opened():
    with Classroom(["ada", "grace"]) as classroom:
        pids = {
            name: classroom[name].run(remember, value) for name, value in (("ada", 1), ("grace", 2))
        }
        assert len({*pids.values(), os.getpid()}) == 3
        assert classroom.run_each(recall) == {"ada": ("ada", 1), "grace": ("grace", 2)}
        with pytest.raises(ValueError, match="refused in a student's process"):
            classroom["ada"].run(fail)
        assert classroom["ada"].run(recall) == ("ada", 1)  # the process lives on


def _databases(url: str) -> set[str]:
    with psycopg.connect(url, autocommit=True) as connection:
        rows = connection.execute("SELECT datname FROM pg_database").fetchall()
    return {name for (name,) in rows}


def test_a_class_server_named_by_the_environment_gets_databases_made_and_dropped(
    postgres_cluster, monkeypatch
):
    monkeypatch.setenv(CLASS_URL, postgres_cluster.url())
    before = _databases(postgres_cluster.url())
    with ClassServer() as server:
        assert not server.throwaway and server.url == postgres_cluster.url()
        url = server.new_database("mall")
        with psycopg.connect(url) as connection:
            assert connection.execute("SELECT 1").fetchone() == (1,)
        made = _databases(server.url) - before
        assert len(made) == 1 and made.pop().startswith("mall_")
    assert _databases(postgres_cluster.url()) == before


def test_the_race_shows_late_commits_with_bigserial_and_none_with_the_counter(postgres_cluster):
    with Classroom.of(3) as writers:
        results = {
            kind: race(postgres_cluster.url(), kind, writers, 60, commit_order=True)
            for kind in ("counter", "bigserial")
        }
    counter, serial = results["counter"], results["bigserial"]
    for result in results.values():
        assert (result.events, result.lost, result.positions_are_1_to_n) == (180, 0, True)
        assert sorted(result.commit_order) == list(range(1, 181))
    assert counter.commit_order == tuple(range(1, 181)) and counter.skipped == 0
    assert serial.committed_out_of_order > 0
    # What the reader skipped committed after a higher position had: never in order.
    assert set(serial.skipped_positions) <= set(
        p for i, p in enumerate(serial.commit_order) if p < max(serial.commit_order[: i + 1])
    )


def test_committed_out_of_order_counts_commits_behind_a_higher_position():
    def result(order):
        return RaceResult("bigserial", len(order), 0, (), 0, True, 0.0, tuple(order))

    assert result([1, 2, 3]).committed_out_of_order == 0
    assert result([2, 1, 3]).committed_out_of_order == 1
    assert result([3, 1, 2, 4]).committed_out_of_order == 2


def test_the_benchmark_runs_the_race_and_prints_what_the_reader_skipped(postgres_cluster, capsys):
    from benchmarks.postgres_log_order import main

    main(["--url", postgres_cluster.url(), "--writers", "2", "--events", "40", "--runs", "1"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "2 writers, 40 events, 0.5 ms before commit"
    counter = next(line.split() for line in lines if line.startswith("counter"))
    assert counter[1:4] == ["0", "0", "yes"]  # none skipped, none lost, positions 1..N
    assert any(line.startswith("bigserial") for line in lines)


def test_a_command_held_open_in_one_process_makes_another_conflict_once_and_retry(
    postgres_url,
):
    from mallbots.classroom import shops
    from mallbots.stores import CreateStore, GetStore, RebrandStore

    with Classroom(["ada", "grace"]) as classroom:
        assert classroom.run_each(shops.open_shop, postgres_url) == {"ada": 0, "grace": 0}
        classroom["ada"].run(shops.execute, CreateStore("Bits", "Level 3", store_id="bits"))
        assert classroom["grace"].run(shops.standing) == (0, 1)  # behind until it catches up
        assert classroom["grace"].run(shops.catch_up) == 1
        classroom["ada"].run(shops.hold, RebrandStore("bits", "Ada's"))
        retrying = classroom["grace"].submit(
            shops.execute_retrying, RebrandStore("bits", "Grace's")
        )
        assert classroom["ada"].run(shops.commit_once_another_waits) is True
        _, conflicts = retrying.result(60)
        assert len(conflicts) == 1 and "expected version 1" in conflicts[0]
        names = {
            name: classroom[name].run(shops.execute, GetStore("bits")).name
            for name in ("ada", "grace")
        }
        assert names == {"ada": "Grace's", "grace": "Grace's"}
