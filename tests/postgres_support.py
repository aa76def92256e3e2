"""PostgreSQL in the tests: a throwaway cluster where its binaries are installed.

The cluster itself is :mod:`mallbots.local_postgres` (also used by the notebook and the
benchmarks). Where PostgreSQL or psycopg is missing the tests that need it are skipped
with the reason, unless ``MALLBOTS_REQUIRE_POSTGRES=1`` (as ``.ci/run`` sets) makes that
a failure.
"""

from __future__ import annotations

import os
import time

import pandas as pd
import pytest

from mallbots.local_postgres import Cluster, free_port, missing, throwaway_cluster

__all__ = [
    "NOTEBOOKS_ON_POSTGRES",
    "NO_PSYCOPG",
    "REQUIRE",
    "Cluster",
    "check_required_driver",
    "frame_as_text",
    "free_port",
    "missing",
    "notebook_skip_reason",
    "same_frames",
    "skip_or_fail",
    "throwaway_cluster",
    "wait_until_a_session_waits_for_a_lock",
]

REQUIRE = "MALLBOTS_REQUIRE_POSTGRES"


def skip_or_fail(reason: str) -> None:
    """Skip with ``reason``, or fail if the environment requires PostgreSQL."""
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{REQUIRE}=1 but the PostgreSQL tests cannot run: {reason}")
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


NO_PSYCOPG = "PostgreSQL tests skipped: psycopg is not installed (pip install 'psycopg[binary]')"
"""Why a test module that imports the PostgreSQL store is skipped (``pytest.importorskip``)."""


def check_required_driver() -> None:
    """Stop the run if PostgreSQL is required (see :func:`skip_or_fail`) and psycopg is missing."""
    if os.environ.get(REQUIRE) != "1":
        return
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise pytest.UsageError(f"{REQUIRE}=1 but psycopg cannot be imported") from None


NOTEBOOKS_ON_POSTGRES = ("10_one_mall_for_the_class.ipynb",)
"""The notebooks that need a PostgreSQL server: the class's, or a throwaway one."""


def notebook_skip_reason(name: str) -> str | None:
    """Why notebook ``name`` cannot run here, if it needs PostgreSQL and none can be had.

    None where it can run, or where ``MALLBOTS_REQUIRE_POSTGRES=1`` requires it to (it then
    runs, and fails saying what is missing).
    """
    from mallbots.classroom import why_no_server

    if name not in NOTEBOOKS_ON_POSTGRES or os.environ.get(REQUIRE) == "1":
        return None
    reason = why_no_server()
    if reason is None:
        return None
    return (
        f"{name} skipped: it needs PostgreSQL and {reason}; set MALLBOTS_POSTGRES_URL to a "
        f"server, or install PostgreSQL ({REQUIRE}=1 makes this a failure)"
    )


def frame_as_text(frame: pd.DataFrame) -> list[list[str]]:
    """A frame's cells as text, row by row: DuckDB and PostgreSQL give times and numbers
    their own pandas types, so the values, not the dtypes, are what must agree."""
    return frame.astype(str).values.tolist()


def same_frames(left: pd.DataFrame, right: pd.DataFrame) -> bool:
    """The same columns, and the same cells as text (see :func:`frame_as_text`)."""
    return list(left.columns) == list(right.columns) and (
        frame_as_text(left) == frame_as_text(right)
    )


def wait_until_a_session_waits_for_a_lock(url: str, who: str, timeout: float = 30) -> None:
    """Return once a session on the database at ``url`` waits for a lock (another
    transaction's); fail saying ``who`` never waited if none does within ``timeout`` s."""
    import psycopg

    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as watcher:  # each query sees the server anew
        while True:
            (waiting,) = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            ).fetchone()
            if waiting:
                return
            if time.monotonic() > deadline:
                pytest.fail(f"{who} never waited for a lock within {timeout} s")
            time.sleep(0.02)
