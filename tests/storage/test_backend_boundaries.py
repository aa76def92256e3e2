"""Where each storage backend's driver may be imported."""

from __future__ import annotations

import re
import subprocess
import sys
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


def test_the_core_imports_the_postgres_store_only_when_a_shop_asks_for_a_server():
    """``import mallbots`` must work where psycopg is not installed: outside the store's
    package, ``mallbots.es.postgres`` is imported only inside the functions that open or
    wire a shop on PostgreSQL, never at a module's top level."""
    importing = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if POSTGRES_STORE not in path.parents
        and re.search(r"^(import|from)\s+mallbots\.es\.postgres\b", path.read_text(), re.M)
    ]
    assert importing == []


def without_psycopg(program: str) -> subprocess.CompletedProcess:
    """``program`` run by a fresh Python in which psycopg cannot be imported, given two
    minutes."""
    return subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['psycopg'] = None\n" + program],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_package_and_its_command_line_work_without_psycopg(tmp_path):
    """With psycopg made unimportable, the shop and ``mallbots copy`` between DuckDB files run."""
    run = without_psycopg(
        "from mallbots import MallBots\n"
        "from mallbots.cli import main\n"
        "from mallbots.demo import run_demo\n"
        f"with MallBots.open({str(tmp_path / 'a.duckdb')!r}) as shop: run_demo(shop)\n"
        f"assert main(['copy', {str(tmp_path / 'a.duckdb')!r}, "
        f"{str(tmp_path / 'b.duckdb')!r}]) == 0\n"
        f"sys.exit(main(['copy', {str(tmp_path / 'a.duckdb')!r}, 'postgresql://me@host/db']))\n"
    )
    assert run.returncode == 1, run.stderr
    assert "Copied" in run.stdout
    assert run.stderr.startswith("mallbots: error: a postgresql:// URL needs the PostgreSQL driver")
    assert "pip install 'psycopg[binary]'" in run.stderr


def test_a_duckdb_shop_runs_where_psycopg_cannot_be_imported():
    done = without_psycopg(
        "from mallbots.app import MallBots\n"
        "from mallbots.demo import run_demo\n"
        "with MallBots.in_memory(seed=1) as shop:\n"
        "    run_demo(shop)\n"
        "    print(shop.log.count())\n"
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 0


def test_a_shop_on_postgresql_without_psycopg_says_what_to_install():
    done = without_psycopg(
        "from mallbots.cli import main\n"
        "sys.exit(main(['demo', '--db', 'postgresql://ada:secret@localhost/mall']))\n"
    )
    assert done.returncode == 1
    assert done.stderr.startswith(
        "mallbots: error: a postgresql:// URL needs the PostgreSQL driver"
    )
    assert "pip install 'psycopg[binary]'" in done.stderr and "secret" not in done.stderr


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
    for module in (
        "es/ports.py",
        "es/snapshots.py",
        "es/snapshot_rebuild.py",
        "es/event_rows.py",
        "es/transfer.py",
    ):
        text = (PACKAGE / module).read_text()
        assert not re.search(r"^\s*(import|from)\s+(duckdb|psycopg)\b", text, re.MULTILINE)
        assert not re.search(r"^from mallbots\.es\.(duckdb|postgres)\b", text, re.MULTILINE)
