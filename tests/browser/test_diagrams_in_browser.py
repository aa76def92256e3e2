"""Mermaid diagrams in the notebooks' markdown render in JupyterLab: one svg per block.

JupyterLab draws a block as ``<div class="jp-RenderedMermaid"><figure><img src="data:
image/svg+xml,...">``; the test counts those images, checks that each has loaded (a
width) and that the svg holds mermaid's drawing rather than its syntax-error picture.

Each notebook with ```mermaid blocks is opened (not run: markdown renders on opening) in
a JupyterLab on localhost in headless Chromium. A block that mermaid cannot parse renders
as a warning with the error instead of a drawing, and fails the test.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from tests.browser.lab import CHROMIUM_ARGS, jupyter_lab, require_browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MERMAID = re.compile(r"^```mermaid\s*$", re.MULTILINE)
SHOWN = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"
"""The notebook in the tab on show (other tabs' cells are in the page, hidden)."""

pytestmark = pytest.mark.browser


def mermaid_blocks(path: Path) -> int:
    """How many ```mermaid blocks the notebook's markdown cells hold."""
    cells = nbformat.read(path, as_version=4).cells
    return sum(len(MERMAID.findall(c.source)) for c in cells if c.cell_type == "markdown")


@pytest.fixture(scope="module")
def lab_page(tmp_path_factory):
    """A JupyterLab serving a copy of the notebooks, and a Chromium page to drive it."""
    chromium = require_browser()
    from playwright.sync_api import sync_playwright

    workdir = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", workdir / "notebooks")
    ARTIFACTS.mkdir(exist_ok=True)
    with (
        jupyter_lab(workdir, ARTIFACTS / "jupyterlab-diagrams.log") as address,
        sync_playwright() as pw,
    ):
        url, token = address.split("|")
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(90_000)
            yield page, url, token
        finally:
            browser.close()


def _in_view_one_by_one(page) -> None:
    """Scroll each markdown cell into view, so that a lazily drawn notebook draws them all."""
    cells = page.locator(f"{SHOWN} .jp-MarkdownCell")
    for index in range(cells.count()):
        cells.nth(index).scroll_into_view_if_needed()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_mermaid_block_renders_as_a_diagram(path, lab_page):
    expected = mermaid_blocks(path)
    if expected == 0:
        pytest.skip(f"{path.name} has no mermaid diagrams")
    page, url, token = lab_page
    # ?reset: a fresh workspace, so only this notebook is open
    page.goto(f"{url}/lab/tree/notebooks/{path.name}?reset&token={token}")
    page.wait_for_selector(f"{SHOWN} .jp-MarkdownCell")
    _in_view_one_by_one(page)
    drawn = (
        f"{SHOWN} .jp-MarkdownCell .jp-RenderedMermaid:not(.jp-mod-warning) "
        "img[src^='data:image/svg+xml']"
    )
    warned = f"{SHOWN} .jp-MarkdownCell .jp-RenderedMermaid.jp-mod-warning"
    try:
        page.wait_for_function(
            """([drawn, warned, expected]) =>
                document.querySelectorAll(drawn).length + document.querySelectorAll(warned).length
                    >= expected""",
            arg=[drawn, warned, expected],
            timeout=60_000,
        )
    except Exception:
        page.screenshot(path=str(ARTIFACTS / f"diagrams-{path.stem}-failure.png"))
        raise
    warnings = page.locator(warned).all_inner_texts()
    images = page.evaluate(
        """(drawn) => [...document.querySelectorAll(drawn)].map(image => ({
            width: image.naturalWidth,
            svg: decodeURIComponent(image.src.slice(image.src.indexOf(',') + 1)),
        }))""",
        drawn,
    )
    shown = len(images)
    page.screenshot(path=str(ARTIFACTS / f"diagrams-{path.stem}.png"))
    assert not warnings, f"{path.name}: mermaid could not draw a diagram: {warnings}"
    assert shown == expected, f"{path.name}: {shown} diagrams drawn of {expected} mermaid blocks"
    for image in images:
        assert image["width"] > 0, f"{path.name}: a diagram's svg did not load"
        assert "<svg" in image["svg"] and "Syntax error" not in image["svg"], path.name
