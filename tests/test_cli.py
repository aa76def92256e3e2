"""The command line: the demo runs on a database file; bad arguments fail in one line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mallbots.cli import main


def mallbots(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mallbots", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_demo_runs_on_the_default_file_and_prints_the_read_models(tmp_path):
    done = mallbots("demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "mallbots.duckdb").exists()
    assert "stores.stores:" in done.stdout and "stores.products:" in done.stdout
    assert "Waldorf Widgets" in done.stdout and "19.99" in done.stdout
    assert done.stderr == ""


def test_a_bad_argument_fails_with_one_line_and_no_traceback(tmp_path):
    done = mallbots("demo", "--bogus", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "mallbots: error: unrecognized arguments: --bogus (see mallbots --help)"
    ]


@pytest.mark.parametrize(
    ("argv", "status", "error"),
    [
        ([], 2, "the following arguments are required: COMMAND (see mallbots --help)"),
        (["shop"], 2, "argument COMMAND: invalid choice: 'shop'"),
        (["demo", "--seed", "x"], 2, "argument --seed: invalid int value: 'x'"),
        (["demo", "--db", "/no/such/dir/x.duckdb"], 1, "Cannot open file"),
    ],
)
def test_every_failure_is_one_line_with_a_status(capsys, argv, status, error):
    assert main(argv) == status
    captured = capsys.readouterr()
    (line,) = captured.err.splitlines()
    assert line.startswith("mallbots: error: ") and error in line


def test_the_demo_is_seeded_and_repeatable_on_a_given_file(tmp_path, capsys):
    outputs = []
    for name in ("a", "b"):
        assert main(["demo", "--db", str(tmp_path / f"{name}.duckdb"), "--seed", "9"]) == 0
        outputs.append(capsys.readouterr().out.replace(f"{name}.duckdb", "X"))
    assert outputs[0] == outputs[1]


def test_help_names_the_default_database(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["demo", "--help"])
    assert exit.value.code == 0
    assert "default: mallbots.duckdb in the current directory" in " ".join(
        capsys.readouterr().out.split()
    )
