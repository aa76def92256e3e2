"""Fixtures for the storage tests: every backend of the event store, PostgreSQL included.

PostgreSQL runs as a throwaway cluster started once per test session where its binaries
are installed (see :mod:`tests.postgres_support`); each test gets a database of its own.
"""

from __future__ import annotations

import pytest

from mallbots.es import Database
from tests.postgres_support import (
    check_required_driver,
    missing,
    skip_or_fail,
    throwaway_cluster,
)
from tests.storage.backends import BACKENDS, Backend

check_required_driver()


@pytest.fixture(scope="session")
def postgres_cluster():
    """A throwaway PostgreSQL cluster for the session, or a skip that says why not."""
    reason = missing()
    if reason is not None:
        skip_or_fail(reason)
    with throwaway_cluster() as cluster:
        yield cluster


@pytest.fixture
def postgres_url(postgres_cluster):
    """The URL of a new, empty PostgreSQL database, dropped after the test."""
    with postgres_cluster.database() as url:
        yield url


@pytest.fixture
def postgres(postgres_url):
    """A :class:`PostgresDatabase` on a new database, closed after the test."""
    from mallbots.es.postgres import PostgresDatabase

    database = PostgresDatabase.open(postgres_url)
    yield database
    database.close()


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path):
    """The same store behaviour on DuckDB in memory, a DuckDB file, and PostgreSQL."""
    if request.param == "duckdb-memory":
        database = Database.memory()
    elif request.param == "duckdb-file":
        database = Database.open(tmp_path / "store.duckdb")
    else:
        database = request.getfixturevalue("postgres")
    yield Backend(request.param, database)
    if request.param != "postgresql":
        database.close()
