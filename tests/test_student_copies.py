"""Student copies: every solution stripped, every check failing with its helpful message.

Generic over ``notebooks/[0-9][0-9]_*.ipynb``: each numbered notebook but the contents
has at least two checked exercises in the shared markup (``ex-N-k`` solution cell, then
its ``ex-N-k-check`` graded cell). The copies are written once per session; executing
them runs each notebook once more (marked slow).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from mallbots.student_copies import student_copy, workbook_notebooks, write_student_copies
from tests.postgres_support import notebook_skip_reason

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = workbook_notebooks(ROOT / "notebooks")
EXERCISE_NOTEBOOKS = [path for path in NOTEBOOKS if not path.name.startswith("00_")]
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
NOT_ANSWERED = re.compile(r"Exercise \d+\.\d+ is not answered yet: write the body of \w+\(\)")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _grading(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def solution_cells(notebook) -> list:
    return [c for c in notebook.cells if c.cell_type == "code" and _grading(c).get("solution")]


def check_cells(notebook) -> list:
    return [c for c in notebook.cells if c.cell_type == "code" and _grading(c).get("grade")]


def starter(solution_source: str) -> str:
    """What nbgrader leaves of a solution: the region replaced, at its indentation."""
    lines, out, inside = solution_source.splitlines(), [], False
    for line in lines:
        if line.strip() == BEGIN:
            indent = line[: len(line) - len(line.lstrip())]
            out += [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError()"]
            inside = True
        elif line.strip() == END:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


@pytest.fixture(scope="session")
def student_folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("student") / "workbook"
    write_student_copies(out, ROOT)
    return out


def _ids(paths: list[Path]) -> list[str]:
    return [path.stem for path in paths]


@pytest.mark.parametrize("path", EXERCISE_NOTEBOOKS, ids=_ids(EXERCISE_NOTEBOOKS))
def test_each_notebook_has_at_least_two_checked_exercises_in_the_shared_markup(path):
    notebook = nbformat.read(path, as_version=4)
    number = int(path.name[:2])
    solutions, checks = solution_cells(notebook), check_cells(notebook)
    assert len(checks) >= 2, (
        f"{path.name} has {len(checks)} checked exercises; every notebook needs at least two "
        "(a solution cell ex-N-k and its graded check cell ex-N-k-check, see NOTEBOOKS.md)"
    )
    code = [c for c in notebook.cells if c.cell_type == "code"]
    for cell in solutions:
        grade_id = _grading(cell)["grade_id"]
        assert re.fullmatch(rf"ex-{number}-\d+", grade_id), f"{path.name}: {grade_id!r}"
        source = cell.source.splitlines()
        assert [s.strip() for s in source].count(BEGIN) == 1, f"{path.name} {grade_id}: {BEGIN}"
        assert [s.strip() for s in source].count(END) == 1, f"{path.name} {grade_id}: {END}"
        assert cell.metadata.get("jupyter", {}).get("source_hidden"), (
            f"{path.name} {grade_id}: collapse the solution (metadata jupyter.source_hidden)"
        )
        following = code[code.index(cell) + 1]
        assert _grading(following).get("grade_id") == f"{grade_id}-check", (
            f"{path.name}: the cell after solution {grade_id} must be its check {grade_id}-check"
        )
        assert _grading(following).get("locked") and _grading(following).get("points")
        assert "Exercise(" in following.source, f"{path.name}: check {grade_id} without Exercise"
    assert len(solutions) == len(checks), f"{path.name}: a check without its solution cell"


def test_grade_ids_are_unique_across_the_workbook():
    seen: dict[str, str] = {}
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            grade_id = _grading(cell).get("grade_id")
            if grade_id is None:
                continue
            assert grade_id not in seen, f"grade_id {grade_id!r} in {seen.get(grade_id)} and {path}"
            seen[grade_id] = path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_the_student_copy_keeps_only_the_starters(path, student_folder):
    original = nbformat.read(path, as_version=4)
    copy = nbformat.read(student_folder / "notebooks" / path.name, as_version=4)
    assert len(copy.cells) == len(original.cells)
    assert BEGIN not in json.dumps(copy.cells) and END not in json.dumps(copy.cells)
    for before, after in zip(original.cells, copy.cells, strict=True):
        if after.cell_type == "code":
            assert after.outputs == [] and after.execution_count is None
        if _grading(before).get("solution"):
            assert after.source == starter(before.source), (
                f"{path.name} {_grading(before)['grade_id']}: the solution was not stripped"
            )
            assert not after.metadata.get("jupyter", {}).get("source_hidden")
        else:
            assert after.source == before.source
        if _grading(before).get("grade"):
            assert after.metadata.get("editable") is False, "a check cell must be locked"


def test_starter_replaces_the_region_at_its_indentation():
    solution = (
        'def f(x):\n    """Doc."""\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION'
    )
    assert starter(solution) == (
        'def f(x):\n    """Doc."""\n    # YOUR CODE HERE\n    raise NotImplementedError()'
    )
    assert student_copy(
        nbformat.v4.new_notebook(
            cells=[
                nbformat.v4.new_code_cell(
                    solution,
                    metadata={
                        "nbgrader": {
                            "grade": False,
                            "grade_id": "ex-9-1",
                            "locked": False,
                            "schema_version": 3,
                            "solution": True,
                            "task": False,
                        },
                        "jupyter": {"source_hidden": True},
                    },
                )
            ]
        )
    ).cells[0].source == starter(solution)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_in_the_student_copy_every_check_fails_with_its_helpful_message(path, student_folder):
    from nbclient import NotebookClient

    skip_reason = notebook_skip_reason(path.name)
    if skip_reason is not None:
        pytest.skip(skip_reason)
    target = student_folder / "notebooks" / path.name
    notebook = nbformat.read(target, as_version=4)
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(target.parent)}},
    ).execute()
    failed = {}
    for index, cell in enumerate(notebook.cells):
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if errors:
            failed[index] = errors[0]
    checks = {notebook.cells.index(cell): cell for cell in check_cells(notebook)}
    assert set(failed) == set(checks), (
        f"{path.name}: cells {sorted(set(failed) - set(checks))} failed that are not checks "
        f"(nothing may depend on an answer), checks {sorted(set(checks) - set(failed))} passed "
        "unanswered"
    )
    for index, error in failed.items():
        grade_id = _grading(checks[index])["grade_id"]
        assert error.ename == "ExerciseFailed", f"{path.name} {grade_id}: {error.ename}"
        assert NOT_ANSWERED.search(error.evalue), f"{path.name} {grade_id}: {error.evalue}"


@pytest.mark.slow
def test_nbgrader_generate_assignment_makes_the_same_copies(tmp_path, student_folder):
    course = tmp_path / "course"
    source = course / "source" / "workbook"
    source.mkdir(parents=True)
    for path in NOTEBOOKS:
        (source / path.name).write_bytes(path.read_bytes())
    # nbgrader runs the `alembic` command of its own environment to make the gradebook.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", "workbook", "--force"],
        cwd=course,
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for path in NOTEBOOKS:
        released = nbformat.read(course / "release" / "workbook" / path.name, as_version=4)
        ours = nbformat.read(student_folder / "notebooks" / path.name, as_version=4)
        assert [c.source for c in released.cells] == [c.source for c in ours.cells], path.name


def _relative_links(notebook) -> list[str]:
    links = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            links += [
                link.split("#")[0]
                for link in LINK.findall(cell.source)
                if not re.match(r"[a-z]+:", link) and not link.startswith("#")
            ]
    return links


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_every_link_to_a_file_resolves_in_the_workbook_and_in_the_student_copy(
    path, student_folder
):
    for folder in (ROOT / "notebooks", student_folder / "notebooks"):
        notebook = nbformat.read(folder / path.name, as_version=4)
        missing = [link for link in _relative_links(notebook) if not (folder / link).exists()]
        assert not missing, f"{folder / path.name} links to missing files: {missing}"
