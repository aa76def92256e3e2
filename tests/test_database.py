"""Opening databases: files, memory, sharing in a process, and a file locked by another."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading

import duckdb
import pytest

from mallbots.app import MallBots
from mallbots.es import Database
from mallbots.es.errors import DatabaseLockedError, NotADatabaseFileError
from mallbots.stores.application import CreateStore
from tests.processes import held


def test_opening_the_same_file_twice_in_a_process_shares_one_database(tmp_path):
    first = Database.open(tmp_path / "a.duckdb")
    second = Database.open(str(tmp_path / "." / "a.duckdb"))
    assert first is second
    first.close()
    assert Database.open(tmp_path / "a.duckdb") is not first


@pytest.mark.parametrize("second_name", ["hard link", "symbolic link", "another spelling"])
def test_one_file_under_two_names_is_one_database_and_loses_no_write(tmp_path, second_name):
    """The issue's trial: a shop on each name, commands through both, then reopen.

    With a Database per name, each kept its own copy of the file and the last to
    checkpoint erased the other's commits (301 of 601 in one trial).
    """
    path = tmp_path / "mall.duckdb"
    with MallBots.open(path, seed=None):
        pass  # the file exists before its second name
    other = tmp_path / "other.duckdb"
    if second_name == "hard link":
        other.hardlink_to(path)
    elif second_name == "symbolic link":
        other.symlink_to(path)
    else:
        (tmp_path / "sub").mkdir()
        other = tmp_path / "sub" / ".." / "mall.duckdb"
    first = MallBots.open(path, seed=None)
    second = MallBots.open(other, seed=None)
    assert first.database is second.database
    for i in range(60):
        shop = first if i % 2 else second
        shop.execute(CreateStore(name=f"Store {i}", location="Hall"))
    first.database.execute("CHECKPOINT")
    second.close()  # closes the one Database, as closing either name would
    with MallBots.open(path) as reopened:
        assert reopened.log.count() == 60
        assert len(reopened.read_model("stores.stores")) == 60


def test_a_database_opened_by_a_new_name_after_closing_is_a_new_one(tmp_path):
    path = tmp_path / "a.duckdb"
    first = Database.open(path)
    (tmp_path / "b.duckdb").hardlink_to(path)
    assert Database.open(tmp_path / "b.duckdb") is first
    first.close()
    with Database.open(tmp_path / "b.duckdb") as again:
        assert again is not first


@pytest.mark.parametrize("kind", ["directory", "FIFO"])
def test_something_that_is_not_a_regular_file_is_refused_untouched(tmp_path, kind):
    path = tmp_path / "thing"
    if kind == "directory":
        path.mkdir()
    else:
        os.mkfifo(path)
    with pytest.raises(NotADatabaseFileError, match=f"{path} is a (directory|FIFO)"):
        Database.open(path)
    assert path.is_dir() if kind == "directory" else stat.S_ISFIFO(path.stat().st_mode)


@pytest.fixture
def existing(tmp_path):
    path = tmp_path / "held.duckdb"
    with Database.open(path) as db:
        db.execute("CREATE TABLE t AS SELECT 42 AS x")
    return path


@pytest.mark.parametrize(
    ("holder_mode", "read_only", "words"),
    [
        ("rw", False, ["is open read-write in process", "close that program"]),
        ("rw", True, ["cannot open", "read-only", "not even read-only", "close it there"]),
        ("ro", False, ["is open read-only in process", "open this one read-only too"]),
    ],
)
def test_a_file_held_by_another_process_gives_a_clear_error(
    existing, holder_mode, read_only, words
):
    with held(existing, holder_mode) as holder:
        with pytest.raises(DatabaseLockedError) as caught:
            Database.open(existing, read_only=read_only)
        message = str(caught.value)
        assert f"process {holder.pid}" in message
        for word in words:
            assert word in message
        assert "Traceback" not in message and "IO Error" not in message
        assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_many_processes_may_read_a_file_together(existing):
    with held(existing, "ro"), Database.open(existing, read_only=True) as db:
        assert db.execute("SELECT x FROM t").fetchone() == (42,)
        with pytest.raises(duckdb.Error):  # and reading is all it may do
            db.execute("INSERT INTO t VALUES (1)")


def test_read_only_in_the_writing_process_shares_the_writer(existing):
    with Database.open(existing) as writer:
        assert Database.open(existing, read_only=True) is writer


def test_a_missing_file_cannot_be_opened_read_only(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Database.open(tmp_path / "nothing.duckdb", read_only=True)


@pytest.mark.parametrize("kind", ["parquet", "csv", "text"])
def test_a_data_file_is_refused_as_a_database_and_left_as_it_was(tmp_path, kind):
    """DuckDB attaches an existing Parquet or CSV file as an empty in-memory database."""
    path = tmp_path / f"data.{kind}"
    if kind == "text":
        path.write_text("not a database\n")
    else:
        duckdb.execute(f"COPY (SELECT 1 AS a, 'x' AS b) TO '{path}' (FORMAT {kind})")
    before = path.read_bytes()
    with pytest.raises(duckdb.IOException, match=r"not a (valid )?DuckDB database file"):
        Database.open(path)
    assert path.read_bytes() == before


def test_a_second_database_object_on_an_open_file_is_refused_clearly(existing):
    with (
        Database.open(existing),
        pytest.raises(DatabaseLockedError, match=r"use Database\.open"),
    ):
        Database(existing)


def test_a_rolled_back_transaction_gives_its_positions_back(db):
    from tests.es_support import Bank

    bank = Bank(db, every=None)
    bank.open_account("a1")
    with pytest.raises(RuntimeError), db.transaction():
        account = bank.accounts.new("a2")
        account.open("Grace")
        bank.events.save(account)
        assert db.last_position == 2
        raise RuntimeError("changed my mind")
    assert db.last_position == 1
    assert bank.open_account("a3").version == 1
    assert db.execute("SELECT max(position) FROM bank.events").fetchone()[0] == 2


def test_nested_transactions_join_the_outermost(db):
    db.execute("CREATE TABLE t (x INTEGER)")
    with pytest.raises(RuntimeError), db.transaction():
        db.execute("INSERT INTO t VALUES (1)")
        with db.transaction():
            db.execute("INSERT INTO t VALUES (2)")
        raise RuntimeError("undo both")
    assert db.execute("SELECT count(*) FROM t").fetchone()[0] == 0


def test_table_names_must_be_plain_identifiers(db):
    from mallbots.es import EventStore
    from tests.es_support import bank_registry

    with pytest.raises(ValueError, match="identifier"):
        EventStore(db, bank_registry(), "bank.events; DROP TABLE x")


@pytest.mark.parametrize("stem", ["bank", "memory", "main"])
def test_a_file_may_be_named_like_a_schema_in_it(tmp_path, stem):
    """DuckDB names a file's catalog after the file: bank.duckdb would make 'bank.events'
    ambiguous (catalog bank or schema bank?). The Database must not care."""
    from decimal import Decimal

    from tests.es_support import Bank

    path = tmp_path / f"{stem}.duckdb"
    with Database.open(path) as db:
        bank = Bank(db)
        account = bank.open_account("a1")
        account.deposit(Decimal("5"))
        bank.accounts.save(account)
    with Database.open(path) as db:
        assert Bank(db).accounts.load("a1").balance == Decimal("5")


def test_a_setting_changed_for_a_while_is_put_back_even_after_an_error(db):
    def limit() -> str:
        return db.execute("SELECT current_setting('memory_limit')").fetchone()[0]

    before = limit()
    with pytest.raises(RuntimeError), db.setting("memory_limit", "300MB"):
        assert limit() != before
        raise RuntimeError("the work inside failed")
    assert limit() == before
    with pytest.raises(ValueError, match="identifier"), db.setting("memory_limit; x", "1GB"):
        pass


def test_a_setting_left_open_when_its_database_closes_ends_quietly(tmp_path):
    """Ctrl-C closes the shop's file under a bulk run's settings: putting them back then
    must not raise (a traceback after the one-line message, seen in the interrupt sweep)."""
    database = Database.open(tmp_path / "closing.duckdb")
    with database.setting("memory_limit", "300MB"):
        database.close()
    assert database.closed


def test_cursors_of_ended_threads_are_closed_and_live_ones_kept(tmp_path):
    """One cursor a thread: a thread per request must not keep them all (private count)."""
    database = Database.open(tmp_path / "threads.duckdb")
    ready, finish = threading.Event(), threading.Event()
    results = []

    def long_lived() -> None:
        results.append(database.execute("SELECT 1").fetchone())
        ready.set()
        finish.wait(timeout=30)
        results.append(database.execute("SELECT 2").fetchone())  # its cursor still works

    worker = threading.Thread(target=long_lived)
    worker.start()
    ready.wait(timeout=30)
    for _ in range(40):
        short = threading.Thread(target=lambda: database.execute("SELECT 3").fetchone())
        short.start()
        short.join()
    database.execute("SELECT 4")  # this thread's first cursor: the ended threads' go
    assert len(database._cursors) <= 3  # this thread, the worker, at most the last short one
    finish.set()
    worker.join()
    assert results == [(1,), (2,)]
    database.close()


def test_a_closed_database_refuses_work_in_its_own_words(tmp_path):
    database = Database.open(tmp_path / "closed.duckdb")
    database.close()
    for attempt in (database.cursor, lambda: database.fresh_cursor().__enter__()):
        with pytest.raises(RuntimeError, match="is closed"):
            attempt()


FILE_SIZE_LIMITED = """
import resource, signal, sys
from mallbots.es import Database
from mallbots.es.errors import DatabaseInvalidatedError
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, as on a full disk
db = Database.open(sys.argv[1])
db.execute("SET checkpoint_threshold = '1GB'")
db.execute("CREATE TABLE t (x VARCHAR)")
db.execute("CHECKPOINT")
resource.setrlimit(resource.RLIMIT_FSIZE, (3_000_000, resource.RLIM_INFINITY))
rows = "INSERT INTO t SELECT md5(random()::VARCHAR) || md5(random()::VARCHAR) FROM range(30000)"
for attempt in range(2):
    with db.transaction() as cursor:
        cursor.execute(rows)
    try:
        db.execute("CHECKPOINT")
    except DatabaseInvalidatedError as error:
        print(error)
        try:
            db.execute("SELECT count(*) FROM t")
        except DatabaseInvalidatedError as again:
            print(again)
        db.close()
        break
"""


def test_a_failed_checkpoint_says_close_and_reopen_and_keeps_the_commits(tmp_path):
    """DuckDB's "detach and reattach", after a write fails (here: past a file size limit)."""
    path = tmp_path / "full.duckdb"
    done = subprocess.run(
        [sys.executable, "-c", FILE_SIZE_LIMITED, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2
    for line in lines:
        assert line.startswith(f"{path} cannot be used any more in this process")
        assert "Close the shop and open it again" in line and "File too large" in line
        assert "reattach" not in line.lower()
    with Database.open(path) as reopened:  # both commits were in the log before it failed
        assert reopened.execute("SELECT count(*) FROM t").fetchone() == (60_000,)
