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


DUCKDB_STORE = "es/duckdb/"
READ_SIDE = {
    "es/projection.py",  # read models are DuckDB tables by design
    "bulk_tables.py",  # bulk loads write the read models' tables
    "reporting/sales.py",  # reports are DuckDB SQL
    "cli.py",  # explains DuckDB's refusals of a file
}
"""Outside the DuckDB store, the read side, where DuckDB stays by design (issue 20)."""


def _importing(driver: str) -> list[str]:
    pattern = re.compile(rf"^\s*(import|from)\s+{driver}\b", re.MULTILINE)
    return sorted(
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if pattern.search(path.read_text())
    )


def test_duckdb_is_imported_only_by_its_store_and_the_read_side():
    importing = _importing("duckdb")
    assert any(name.startswith(DUCKDB_STORE) for name in importing)
    elsewhere = [name for name in importing if not name.startswith(DUCKDB_STORE)]
    assert set(elsewhere) <= READ_SIDE, elsewhere


def test_the_storage_port_names_no_backend():
    """The protocols and the backend-neutral snapshot logic import neither driver nor store."""
    for module in ("es/ports.py", "es/snapshots.py", "es/event_rows.py"):
        text = (PACKAGE / module).read_text()
        assert not re.search(r"^\s*(import|from)\s+(duckdb|psycopg)\b", text, re.MULTILINE)
        assert not re.search(r"^from mallbots\.es\.(duckdb|postgres)\b", text, re.MULTILINE)
