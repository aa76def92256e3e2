"""Student copies of the workbook: solutions stripped, outputs cleared, checks locked.

The notebooks mark their exercises in nbgrader's markup (see :mod:`mallbots.exercises`).
This runs nbgrader's own preprocessors, as ``nbgrader generate_assignment`` does, but
without a course folder or a gradebook, and writes a folder a class can use as it is::

    python -m mallbots.student_copies            # or: make student
    python -m mallbots.student_copies --out somewhere/else

The folder holds ``notebooks/`` (the student copies) beside the package and the files
needed to install it, so the notebooks' links to package files keep working and the
folder can be pushed as a repository of its own (Binder reads its ``binder/``).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
DEFAULT_OUT = ROOT / "build" / "student"
# Copied beside the notebooks, so that links and ``pip install -e .`` work in the copy.
PROJECT_FILES = ("pyproject.toml", "README.md", "environment.yml", "Makefile")
PROJECT_FOLDERS = ("mallbots", "binder", "data")
# Marks a folder this tool wrote, which it may replace; it deletes no other folder.
MARKER = ".student-copies"


def workbook_notebooks(folder: Path = NOTEBOOKS) -> list[Path]:
    """The numbered notebooks of ``folder``, in reading order."""
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


def _preprocessors() -> list:
    try:
        from nbgrader.preprocessors import (
            CheckCellMetadata,
            ClearHiddenTests,
            ClearMarkScheme,
            ClearOutput,
            ClearSolutions,
            ComputeChecksums,
            LockCells,
        )
    except ImportError:
        raise SystemExit(
            "Student copies need nbgrader, which is not installed here: run "
            "`python -m pip install -e '.[teach]'` in the project folder, then try again."
        ) from None
    # The order nbgrader's generate_assignment uses, less the gradebook and header steps.
    return [
        LockCells(),
        ClearSolutions(),
        ClearOutput(),
        CheckCellMetadata(),
        ClearHiddenTests(),
        ClearMarkScheme(),
        ComputeChecksums(),
        CheckCellMetadata(),
    ]


def student_copy(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``notebook`` with its solutions replaced by starters and no outputs.

    In the workbook a solution cell is collapsed (``source_hidden``); in the student copy
    it is the starter the student writes in, so it is shown.
    """
    copy = nbformat.from_dict(notebook)
    resources: dict = {}
    for preprocessor in _preprocessors():
        copy, resources = preprocessor.preprocess(copy, resources)
    for cell in copy.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.metadata.get("jupyter", {}).pop("source_hidden", None)
            if cell.metadata.get("jupyter") == {}:
                del cell.metadata["jupyter"]
    return copy


def write_student_copies(out: Path = DEFAULT_OUT, source: Path = ROOT) -> list[Path]:
    """Write the student folder at ``out`` (replacing it); the student notebooks written."""
    notebooks = workbook_notebooks(source / "notebooks")
    if not notebooks:
        raise SystemExit(f"No numbered notebooks (NN_name.ipynb) in {source / 'notebooks'}.")
    if out.exists():
        if not (out / MARKER).exists():
            raise SystemExit(
                f"{out} exists and was not written by this tool; choose another --out, or "
                "remove that folder yourself if you mean to replace it."
            )
        shutil.rmtree(out)
    (out / "notebooks").mkdir(parents=True)
    (out / MARKER).write_text("Student copies written by python -m mallbots.student_copies.\n")
    for name in PROJECT_FILES:
        if (source / name).exists():
            shutil.copy2(source / name, out / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in PROJECT_FOLDERS:
        if (source / name).is_dir():
            shutil.copytree(source / name, out / name, ignore=ignore)
    shutil.copy2(source / "notebooks" / "README.md", out / "notebooks" / "README.md")
    written = []
    for path in notebooks:
        copy = student_copy(nbformat.read(path, as_version=4))
        target = out / "notebooks" / path.name
        nbformat.write(copy, target)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mallbots.student_copies",
        description="Write student copies of the workbook: solutions stripped, outputs "
        "cleared, checks locked.",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="default: build/student")
    args = parser.parse_args(argv)
    written = write_student_copies(args.out)
    print(f"{len(written)} student notebooks in {args.out / 'notebooks'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
