"""What stops a command is told in one line: Ctrl-C however it arrives, DuckDB without SQL."""

from __future__ import annotations

import sys

import duckdb
import pytest

from mallbots.cli import QuietCtrlC, report
from mallbots.es import Database, HandlerError
from mallbots.es.duckdb.database import duckdb_explained


def raised(make) -> BaseException:
    try:
        make()
    except BaseException as error:
        return error
    raise AssertionError("nothing was raised")


def query_interrupted() -> None:
    raise RuntimeError("Query interrupted")  # what DuckDB raises on SIGINT mid-query


def wrapped_by_a_handler() -> None:
    try:
        query_interrupted()
    except RuntimeError as error:
        raise HandlerError(lambda e: None, _Named(), error) from error


class _Named:
    """What a HandlerError says of the event it failed on."""

    name = "stores.StoreCreated"
    position = 1
    aggregate_name = "stores.Store"
    aggregate_id = "s-1"
    aggregate_version = 1


@pytest.mark.parametrize(
    "make",
    [
        lambda: (_ for _ in ()).throw(KeyboardInterrupt()),
        query_interrupted,
        wrapped_by_a_handler,
    ],
    ids=["KeyboardInterrupt", "DuckDB mid-query", "inside a handler"],
)
def test_ctrl_c_however_it_arrives_is_one_line_and_130(make, capsys):
    assert report(raised(make), "mall.duckdb") == 130
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (
        "mallbots: error: interrupted: mall.duckdb holds only what was committed before "
        "(nothing half-written)"
    )


def test_an_unforeseen_error_is_raised_again():
    error = raised(lambda: [][1])
    with pytest.raises(IndexError):
        report(error, "mall.duckdb")


def test_a_duckdb_error_is_told_without_its_sql_and_names_the_file(tmp_path):
    with Database.open(tmp_path / "mall.duckdb") as database:
        error = raised(lambda: database.execute("SELECT no_such_column FROM range(3)"))
    assert isinstance(error, duckdb.Error) and "LINE 1" in str(error)
    told = duckdb_explained(error, str(tmp_path / "mall.duckdb"))
    assert "\n" not in told and "LINE" not in told and "FROM range" not in told
    assert told.startswith(f"{tmp_path / 'mall.duckdb'}: ") and "no_such_column" in told


def test_a_handler_failing_in_duckdb_is_told_without_the_sql(tmp_path, capsys):
    with Database.open(tmp_path / "mall.duckdb") as database:
        cause = raised(lambda: database.execute("SELECT no_such_column FROM range(3)"))
    error = HandlerError(lambda e: None, _Named(), cause)
    assert "LINE 1" in str(error)
    assert report(error, "mall.duckdb") == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert "no_such_column" in line and "LINE" not in line and "FROM range" not in line


class _FreedDuringCtrlC:
    def __del__(self) -> None:
        raise KeyboardInterrupt  # as if Ctrl-C landed while this object was freed


def test_ctrl_c_in_a_destructor_is_kept_not_printed(capsys):
    """Python prints "Exception ignored in ..." with a traceback, and goes on."""
    hook = QuietCtrlC()
    previous, sys.unraisablehook = sys.unraisablehook, hook
    try:
        _FreedDuringCtrlC()  # freed at once: its __del__ raises into the hook
    finally:
        sys.unraisablehook = previous
    assert isinstance(hook.swallowed, KeyboardInterrupt)
    assert capsys.readouterr().err == ""
    assert report(hook.swallowed, "mall.duckdb") == 130
