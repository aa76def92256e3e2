"""The contents notebook lists every notebook, and agrees with each notebook's own header.

The shape every notebook shares (notebooks/README.md, "For authors"): a first cell
``# N · Title`` with **You will learn**, **You need** and **Time**, and a last cell that
is the navigation line to the previous notebook, the contents and the next notebook.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from mallbots.student_copies import workbook_notebooks

ROOT = Path(__file__).resolve().parent.parent
CONTENTS = ROOT / "notebooks" / "00_contents.ipynb"
NOTEBOOKS = [p for p in workbook_notebooks(ROOT / "notebooks") if p != CONTENTS]
ROW = re.compile(
    r"^\|\s*\d\d\s*\|\s*\[(?P<number>\d\d) · (?P<title>[^\]]+)\]\((?P<file>[^)]+)\)"
    r".*\|\s*(?P<read>\d+) min\s*\|\s*(?P<run>\d+) s\s*\|\s*$"
)
TIME = re.compile(
    r"\*\*Time:?\*\*:?\s*about (?P<read>\d+) min(?:ute)?s? to read, about (?P<run>\d+) s to run"
)
MOST_SECONDS = 15  # NOTEBOOKS.md: each notebook runs in 15 s or less in a fresh kernel


def contents_rows() -> dict[str, dict[str, str]]:
    """Each row of the contents table, by notebook file name."""
    source = "\n".join(c.source for c in nbformat.read(CONTENTS, as_version=4).cells)
    rows = [ROW.match(line) for line in source.splitlines()]
    return {row["file"]: row.groupdict() for row in rows if row}


def test_the_contents_lists_every_notebook_in_order():
    assert list(contents_rows()) == [path.name for path in NOTEBOOKS]


def test_the_contents_has_a_map_of_the_notebooks():
    source = "\n".join(c.source for c in nbformat.read(CONTENTS, as_version=4).cells)
    diagram = source.split("```mermaid", 1)[1].split("```", 1)[0]
    for path in NOTEBOOKS:
        assert f"n{path.name[:2]}[" in diagram, f"{path.name} is missing from the map"


def _navigation(name: str) -> str:
    """The last line of notebook ``name``: previous, contents, next, as the contents lists them."""
    rows = list(contents_rows().values())
    index = [row["file"] for row in rows].index(name)

    def link(row: dict[str, str]) -> tuple[str, str]:
        return f"{row['number']} · {row['title']}", row["file"]

    parts = []
    if index > 0:
        title, file = link(rows[index - 1])
        parts.append(f"[← {title}]({file})")
    parts.append("[Contents](00_contents.ipynb)")
    if index + 1 < len(rows):
        title, file = link(rows[index + 1])
        parts.append(f"[{title} →]({file})")
    return " | ".join(parts)


@pytest.mark.parametrize("index", range(len(NOTEBOOKS)), ids=[p.stem for p in NOTEBOOKS])
def test_each_notebook_opens_with_its_header_and_ends_with_its_navigation(index):
    path = NOTEBOOKS[index]
    row = contents_rows()[path.name]
    cells = nbformat.read(path, as_version=4).cells
    header = cells[0].source
    assert re.match(rf"# 0?{int(row['number'])} · {re.escape(row['title'])}\n", header), (
        f"{path.name}: the first line should be '# {int(row['number'])} · {row['title']}'"
    )
    for part in ("**You will learn**", "**You need**"):
        assert part in header, f"{path.name}: the first cell lacks {part}"
    time = TIME.search(header)
    assert time, f"{path.name}: the first cell lacks '**Time**: about N minutes to read, ...'"
    assert (time["read"], time["run"]) == (row["read"], row["run"]), (
        f"{path.name} says {time['read']} min / {time['run']} s, the contents "
        f"{row['read']} min / {row['run']} s: measure again and make them agree"
    )
    assert int(time["run"]) <= MOST_SECONDS, f"{path.name} runs longer than {MOST_SECONDS} s"
    assert cells[-1].source.strip() == _navigation(path.name), (
        f"{path.name}: the last cell should be the navigation line\n{_navigation(path.name)}"
    )
