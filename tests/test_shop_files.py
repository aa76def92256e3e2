"""A shop's files: it writes only to its own, replaces only its own, and reading never writes."""

from __future__ import annotations

import hashlib
import os
import stat

import duckdb
import pytest

from mallbots.app import MallBots
from mallbots.cli import main
from mallbots.es.errors import ForeignDatabaseError
from mallbots.ownership import MARKER, SCHEMA_VERSION
from tests.processes import held

FOREIGN = {
    "their catalog": "CREATE SCHEMA stores; CREATE TABLE stores.products "
    "(id INTEGER, title VARCHAR); INSERT INTO stores.products VALUES (1, 'kept'), (2, 'too')",
    "their event log": "CREATE SCHEMA stores; CREATE TABLE stores.events "
    "(id INTEGER, what VARCHAR); INSERT INTO stores.events VALUES (1, 'their event')",
}


def fingerprint(path) -> tuple[str, list[str]]:
    """The file's bytes (hashed) and the files beside it (a new WAL would show)."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest, sorted(os.listdir(path.parent))


def tables_of(path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() ORDER BY ALL"
        ).fetchall()


@pytest.fixture(params=list(FOREIGN))
def foreign(request, tmp_path):
    path = tmp_path / "theirs.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(FOREIGN[request.param])
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ["demo"],
        ["stats"],
        ["rebuild"],
        ["events"],
        ["check"],
        ["simulate", "--events", "50", "--no-progress"],
        ["simulate", "--events", "50", "--no-progress", "--overwrite"],
    ],
    ids=lambda argv: " ".join(argv[:1] + argv[-1:]),
)
def test_every_command_refuses_another_applications_file_and_adds_nothing(foreign, argv, capsys):
    before, tables = fingerprint(foreign), tables_of(foreign)
    status = main([*argv, "--db", str(foreign)])
    (line,) = capsys.readouterr().err.splitlines()
    assert status in (1, 2)
    assert str(foreign) in line
    assert "not made by MallBots" in line or "exists; pass --overwrite" in line, line
    assert fingerprint(foreign) == before
    assert tables_of(foreign) == tables


def test_a_notebook_opening_a_foreign_file_is_refused_in_words(foreign):
    before = fingerprint(foreign)
    with pytest.raises(ForeignDatabaseError, match=r"not made by MallBots.*nothing was changed"):
        MallBots.open(foreign)
    assert fingerprint(foreign) == before


def test_a_new_or_empty_file_is_adopted_and_marked(tmp_path):
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    for path in (empty, tmp_path / "new.duckdb"):
        with MallBots.open(path):
            pass
        with duckdb.connect(str(path), read_only=True) as con:
            marker = con.execute(f"SELECT application, schema_version FROM {MARKER}").fetchall()
        assert marker == [("mallbots", SCHEMA_VERSION)]


def unmarked_shop(tmp_path):
    """A shop file as the version before the marker wrote it."""
    path = tmp_path / "old.duckdb"
    assert main(["demo", "--db", str(path)]) == 0
    with duckdb.connect(str(path)) as con:
        con.execute(f"DROP TABLE {MARKER}")
    return path


def test_a_shop_file_from_before_the_marker_is_recognised_strictly(tmp_path, capsys):
    path = unmarked_shop(tmp_path)
    assert main(["stats", "--db", str(path)]) == 0  # read-only: recognised, not marked
    assert (MARKER.split(".")[0], MARKER.split(".")[1]) not in tables_of(path)
    with MallBots.open(path) as shop:  # a writer marks it
        assert shop.log.count() > 0
    assert ("main", "mallbots_file") in tables_of(path)


@pytest.mark.parametrize(
    "change",
    [
        "ALTER TABLE stores.products ADD COLUMN theirs INTEGER",
        "CREATE TABLE main.notes AS SELECT 1 AS n",
        "DROP TABLE ordering.events",
    ],
)
def test_an_unmarked_file_unlike_a_shop_in_any_way_is_refused(tmp_path, change, capsys):
    path = unmarked_shop(tmp_path)
    with duckdb.connect(str(path)) as con:
        con.execute(change)
    before = fingerprint(path)
    assert main(["demo", "--db", str(path)]) == 1
    assert "not made by MallBots" in capsys.readouterr().err
    assert fingerprint(path) == before


def test_a_file_of_a_newer_shop_is_refused(tmp_path, capsys):
    path = tmp_path / "new.duckdb"
    with MallBots.open(path):
        pass
    with duckdb.connect(str(path)) as con:
        con.execute(f"UPDATE {MARKER} SET schema_version = {SCHEMA_VERSION + 1}")
    assert main(["stats", "--db", str(path)]) == 1
    assert "made by a newer MallBots" in capsys.readouterr().err


# --- --overwrite ---------------------------------------------------------------------------


def make_target(tmp_path, kind: str):
    path = tmp_path / "target"
    if kind == "FIFO":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "symbolic link":
        elsewhere = tmp_path / "elsewhere.duckdb"
        assert main(["simulate", "--db", str(elsewhere), "--events", "30"]) == 0
        path.symlink_to(elsewhere)
    elif kind == "text file":
        path.write_text("my notes\n")
    elif kind == "foreign database":
        with duckdb.connect(str(path)) as con:
            con.execute(FOREIGN["their catalog"])
    return path


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("FIFO", "is a FIFO"),
        ("directory", "is a directory"),
        ("symbolic link", "is a symbolic link to"),
        ("text file", "is not a DuckDB database file"),
        ("foreign database", "was not made by MallBots"),
    ],
)
def test_overwrite_refuses_anything_but_a_shop_file_and_names_it(tmp_path, kind, words, capsys):
    path = make_target(tmp_path, kind)
    mode = os.lstat(path).st_mode
    content = path.read_bytes() if stat.S_ISREG(mode) else None
    status = main(["simulate", "--db", str(path), "--overwrite", "--events", "30"])
    (line,) = capsys.readouterr().err.splitlines()
    assert status == 2
    assert words in line and "--overwrite replaces only a MallBots database file" in line
    assert os.lstat(path).st_mode == mode
    if content is not None:
        assert path.read_bytes() == content


@pytest.mark.parametrize("kind", ["empty file", "shop file"])
def test_overwrite_replaces_a_shop_file_or_an_empty_one(tmp_path, kind):
    path = tmp_path / "mall.duckdb"
    if kind == "empty file":
        path.touch()
    else:
        assert main(["demo", "--db", str(path)]) == 0
    assert main(["simulate", "--db", str(path), "--overwrite", "--events", "30"]) == 0
    with MallBots.open(path) as shop:
        assert shop.log.count() == 30


# --- commands that only read -----------------------------------------------------------------


@pytest.fixture
def shop_file(tmp_path):
    path = tmp_path / "mall.duckdb"
    assert main(["simulate", "--db", str(path), "--events", "200"]) == 0
    return path


READING = [["events", "--last", "5"], ["stats"], ["check"]]


@pytest.mark.parametrize("argv", READING, ids=lambda argv: argv[0])
def test_reading_commands_work_beside_a_reader_in_another_process(shop_file, argv, capsys):
    before = fingerprint(shop_file)
    with held(shop_file, "ro"):
        assert main([*argv, "--db", str(shop_file)]) == 0, capsys.readouterr().err
    assert fingerprint(shop_file) == before


@pytest.mark.parametrize("argv", READING, ids=lambda argv: argv[0])
def test_reading_commands_work_on_a_read_only_file_in_a_read_only_folder(shop_file, argv, capsys):
    before = fingerprint(shop_file)
    shop_file.chmod(0o444)
    shop_file.parent.chmod(0o555)
    try:
        assert main([*argv, "--db", str(shop_file)]) == 0, capsys.readouterr().err
    finally:
        shop_file.parent.chmod(0o755)
        shop_file.chmod(0o644)
    assert fingerprint(shop_file) == before


def test_a_reader_says_when_read_models_are_behind_and_leaves_them(shop_file, capsys):
    with duckdb.connect(str(shop_file)) as con:
        con.execute("UPDATE projections.checkpoints SET position = 0 WHERE name = 'stores.mall'")
        mall = con.execute("SELECT * FROM stores.stores ORDER BY ALL").fetchall()
    before = fingerprint(shop_file)
    capsys.readouterr()
    assert main(["stats", "--db", str(shop_file)]) == 0
    err = capsys.readouterr().err
    assert "note: read models behind the log" in err and "stores.mall (" in err
    assert "stores.catalog" not in err
    assert fingerprint(shop_file) == before
    with duckdb.connect(str(shop_file), read_only=True) as con:
        assert con.execute("SELECT * FROM stores.stores ORDER BY ALL").fetchall() == mall


# --- numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["events", "--last", "99999999999999999999999"],
        ["events", "--last", "-1"],
        ["simulate", "--events", "99999999999999999999999"],
        ["simulate", "--seed", "99999999999999999999999"],
        ["simulate", "--seed", "-5"],
        ["demo", "--seed", "1e3"],
    ],
    ids=lambda argv: " ".join(argv),
)
def test_every_number_is_range_checked_before_any_sql(tmp_path, argv, capsys):
    path = tmp_path / "none.duckdb"
    assert main([*argv, "--db", str(path)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert f"argument {argv[1]}: expected a whole number from" in line
    assert not path.exists()
