"""Where each storage backend's driver may be imported."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "mallbots"
POSTGRES_STORE = PACKAGE / "es" / "postgres"
LOCAL_SERVER = "local_postgres.py"


def test_psycopg_is_imported_only_by_the_postgres_store():
    importing = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if re.search(r"^\s*(import|from)\s+psycopg\b", path.read_text(), re.MULTILINE)
    ]
    assert importing, "the PostgreSQL store imports psycopg"
    allowed = [name for name in importing if name != LOCAL_SERVER]
    assert all(name.startswith("es/postgres/") for name in allowed), importing


def test_the_local_server_imports_psycopg_only_when_it_talks_to_one():
    """``mallbots.local_postgres`` must import (and say what is missing) without psycopg."""
    top_level = re.findall(
        r"^(?:import|from)\s+psycopg\b", (PACKAGE / LOCAL_SERVER).read_text(), re.MULTILINE
    )
    assert top_level == []


def test_the_core_does_not_import_the_postgres_store():
    """``import mallbots`` must work where psycopg is not installed."""
    importing = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if POSTGRES_STORE not in path.parents and "mallbots.es.postgres" in path.read_text()
    ]
    assert importing == []
