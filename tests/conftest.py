"""Shared fixtures: real DuckDB files in a temporary folder, never mocks."""

from __future__ import annotations

import pytest

from mallbots.es import Database
from tests.es_support import Bank


@pytest.fixture
def db(tmp_path):
    """A fresh database file."""
    database = Database.open(tmp_path / "test.duckdb")
    yield database
    database.close()


@pytest.fixture
def bank(db):
    """The bank test domain wired on a database file, snapshots every 3 events."""
    return Bank(db)
