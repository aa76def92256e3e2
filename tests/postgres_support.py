"""PostgreSQL in the tests: a throwaway cluster where its binaries are installed.

The cluster itself is :mod:`mallbots.local_postgres` (also used by the notebook and the
benchmarks). Where PostgreSQL or psycopg is missing the tests that need it are skipped
with the reason, unless ``MALLBOTS_REQUIRE_POSTGRES=1`` (as ``.ci/run`` sets) makes that
a failure.
"""

from __future__ import annotations

import os

import pytest

from mallbots.local_postgres import Cluster, free_port, missing, throwaway_cluster

__all__ = [
    "NO_PSYCOPG",
    "REQUIRE",
    "Cluster",
    "check_required_driver",
    "free_port",
    "missing",
    "skip_or_fail",
    "throwaway_cluster",
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
