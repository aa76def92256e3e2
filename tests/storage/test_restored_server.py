"""A mall's database dumped and restored elsewhere: a read-model file follows it, or is
refused when the restored log is older than the file.

``pg_dump`` carries the mall's id and its log, but not the server's transaction ids,
which the mirror's copies of the plain tables are kept by; an older backup carries a
log that ends before the file's read models do.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import psycopg
import pytest

from mallbots.app import MallBots
from mallbots.customers import DisableCustomer, RegisterCustomer
from mallbots.es import Database
from mallbots.es.postgres import SessionEndedError
from mallbots.es.postgres.mirror import MIRROR_TABLE, MirrorMismatchError
from mallbots.es.postgres.schema import POSITION_TABLE
from mallbots.local_postgres import binaries, throwaway_cluster
from mallbots.stores import CreateStore


def _client(name: str) -> str:
    """A PostgreSQL client program beside the server's binaries (symlinks followed)."""
    folder = binaries()
    assert folder is not None
    return str((folder / "initdb").resolve().with_name(name))


def _dump(url: str, to: Path) -> Path:
    subprocess.run([_client("pg_dump"), "--format=custom", "--file", str(to), url], check=True)
    return to


def _restore(dump: Path, url: str, *options: str) -> None:
    subprocess.run([_client("pg_restore"), *options, "--dbname", url, str(dump)], check=True)


def _customers(shop: MallBots) -> list[str]:
    """The customers' names in the shop's read side (its DuckDB)."""
    rows = shop.database.execute("SELECT name FROM customers.customers ORDER BY name")
    return [name for (name,) in rows.fetchall()]


def _enabled(shop: MallBots) -> dict[str, bool]:
    """Whether each customer is enabled, by name, in the shop's read side."""
    rows = shop.database.execute("SELECT name, enabled FROM customers.customers")
    return dict(rows.fetchall())


def test_a_read_model_file_follows_its_mall_restored_on_a_fresh_server(postgres_url, tmp_path):
    """A fresh server's transaction ids are lower than the old one's: a change made there
    must still reach the file's copy of the plain tables, not look older than it."""
    models = tmp_path / "models.duckdb"
    with MallBots.open(postgres_url, seed=1, read_models=models) as shop:
        ada = shop.execute(RegisterCustomer("Ada", "555-0100"))
        with psycopg.connect(postgres_url, autocommit=True) as burner:
            for _ in range(1500):  # a busy class's server: far past a fresh one's ids
                burner.execute("SELECT pg_current_xact_id()")
        shop.execute(RegisterCustomer("Bob", "555-0101"))
        store = shop.execute(CreateStore("Corner", "Level 1"))
    dump = _dump(postgres_url, tmp_path / "mall.dump")
    with throwaway_cluster() as fresh, fresh.database("moved") as moved:
        _restore(dump, moved)
        with MallBots.open(moved, read_models=models) as shop:
            assert _customers(shop) == ["Ada", "Bob"]
            shop.execute(RegisterCustomer("Cy", "555-0102"))
            shop.execute(DisableCustomer(ada))  # a key the old server wrote last
            shop.execute(CreateStore("Kiosk", "Level 2"))
            assert _customers(shop) == ["Ada", "Bob", "Cy"]
            assert _enabled(shop) == {"Ada": False, "Bob": True, "Cy": True}
            assert set(shop.read_model("stores.stores")["name"]) == {"Corner", "Kiosk"}
            assert shop.stores.application.mall.find(store).name == "Corner"
            assert shop._read_side.mirror.behind() is None  # copied whole once, not each time
        with MallBots.open(moved, read_models=models) as reopened:
            assert _customers(reopened) == ["Ada", "Bob", "Cy"]


def test_a_read_model_file_ahead_of_a_log_restored_from_an_older_backup_is_refused(
    postgres_cluster, postgres_url, tmp_path
):
    models = tmp_path / "models.duckdb"
    with MallBots.open(postgres_url, seed=1, read_models=models) as shop:
        shop.execute(CreateStore("Corner", "Level 1"))
        dump = _dump(postgres_url, tmp_path / "older.dump")
        shop.execute(CreateStore("Kiosk", "Level 2"))  # in the file, not in the backup
        head = shop.log.head()
    with Database.open(models) as database:  # a file from before servers were told apart
        database.execute(f"ALTER TABLE {MIRROR_TABLE} DROP COLUMN snapshot_of")
    with postgres_cluster.database("restored") as restored:
        _restore(dump, restored)
        before = models.read_bytes()
        with pytest.raises(MirrorMismatchError, match=f"up to position {head}.* ends at"):
            MallBots.open(restored, read_models=models)
        with MallBots.open(restored, seed=2) as elsewhere:  # the class carries on past it
            elsewhere.execute(CreateStore("Stall", "Level 3"))
            elsewhere.execute(CreateStore("Booth", "Level 4"))
            assert elsewhere.log.head() > head
        with pytest.raises(MirrorMismatchError, match=r"the event at that position .* another"):
            MallBots.open(restored, read_models=models)
        assert models.read_bytes() == before  # nothing was changed
        with MallBots.open(restored, read_models=tmp_path / "new.duckdb") as shop:
            assert set(shop.read_model("stores.stores")["name"]) == {"Corner", "Stall", "Booth"}


@pytest.mark.parametrize("how", ["in place", "as a new database of the same name"])
def test_a_running_shop_refuses_its_mall_put_back_to_an_earlier_state(
    postgres_cluster, postgres_url, tmp_path, how
):
    """An instructor puts the mall back to a backup while a student's kernel runs: the
    student's next command is refused before it writes, rather than its read models
    keeping events the log no longer has (and missing those that take their places)."""
    models = tmp_path / "models.duckdb"
    with MallBots.open(postgres_url, seed=1, read_models=models) as shop:
        shop.execute(CreateStore("Corner", "Level 1"))
        dump = _dump(postgres_url, tmp_path / "older.dump")
        shop.execute(CreateStore("Kiosk", "Level 2"))
        if how == "in place":
            _restore(dump, postgres_url, "--clean", "--if-exists")
        else:
            name = postgres_url.rsplit("/", 1)[1]
            with psycopg.connect(postgres_cluster.url(), autocommit=True) as admin:
                admin.execute(f"DROP DATABASE {name} WITH (FORCE)")  # ends the shop's sessions
                admin.execute(f"CREATE DATABASE {name}")
            _restore(dump, postgres_url)
            with MallBots.open(postgres_url, seed=2) as elsewhere:  # the class carries on
                elsewhere.execute(CreateStore("Stall", "Level 3"))
                elsewhere.execute(CreateStore("Booth", "Level 4"))
        with pytest.raises((MirrorMismatchError, SessionEndedError)) as first:
            shop.execute(CreateStore("Late", "Level 5"))
        if first.type is SessionEndedError:  # the server ended it; the next one reconnects
            with pytest.raises(MirrorMismatchError, match="restored from an earlier state"):
                shop.execute(CreateStore("Late", "Level 5"))
        with psycopg.connect(postgres_url) as server:
            (last,) = server.execute(f"SELECT last_position FROM {POSITION_TABLE}").fetchone()
        assert last == (1 if how == "in place" else 3)  # refused before it wrote
