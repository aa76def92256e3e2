"""End to end: JupyterLab on localhost, the explorer notebook run in headless Chromium,
the version slider moved, and the shown state seen to change.

Skipped (with the reason) where Chromium is not installed, unless the environment sets
MALLBOTS_REQUIRE_BROWSER=1, as CI does: there a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.browser.lab import CHROMIUM_ARGS, jupyter_lab, require_browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
EXPLORER = Path(
    os.environ.get("MALLBOTS_EXPLORER", ROOT / "notebooks" / "09_exploring_the_mall.ipynb")
)

pytestmark = pytest.mark.browser


def _wait_for_idle_kernel(page) -> None:
    """Until the status bar shows a started kernel that is idle (not "No Kernel")."""
    page.wait_for_function(
        """() => {
            const text = document.querySelector('.jp-StatusBar-Widget')?.innerText || '';
            return text.includes('| Idle') && !text.includes('No Kernel');
        }"""
    )


def test_moving_the_version_slider_changes_the_shown_state(tmp_path):
    chromium = require_browser()
    from playwright.sync_api import sync_playwright

    assert EXPLORER.exists(), f"the explorer notebook {EXPLORER.name} is missing"
    workdir = tmp_path / "lab"
    workdir.mkdir()
    shutil.copy(EXPLORER, workdir / EXPLORER.name)
    ARTIFACTS.mkdir(exist_ok=True)

    with jupyter_lab(workdir, ARTIFACTS / "jupyterlab.log") as address, sync_playwright() as pw:
        url, token = address.split("|")
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(90_000)
            page.goto(f"{url}/lab/tree/{EXPLORER.name}?token={token}")
            page.wait_for_selector(".jp-Notebook .jp-Cell")
            _wait_for_idle_kernel(page)
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator("li[data-command='runmenu:run-all']").click()

            slider = page.locator(".mallbots-explorer .widget-slider .noUi-handle").first
            slider.wait_for(state="visible")
            slider.scroll_into_view_if_needed()
            _wait_for_idle_kernel(page)
            before = page.locator(".mallbots-explorer .mallbots-state").inner_text()
            version_before = page.locator(".mallbots-explorer .widget-readout").inner_text()

            slider.focus()
            page.keyboard.press("Home")  # back to version 1
            page.wait_for_function(
                """([before]) => {
                    const pane = document.querySelector('.mallbots-explorer .mallbots-state');
                    return pane && pane.innerText !== before;
                }""",
                arg=[before],
            )
            after = page.locator(".mallbots-explorer .mallbots-state").inner_text()
            version_after = page.locator(".mallbots-explorer .widget-readout").inner_text()
            page.screenshot(path=str(ARTIFACTS / "explorer.png"), full_page=False)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "explorer-failure.png"))
            raise
        finally:
            browser.close()

    assert version_before != version_after and version_after.strip() == "1"
    assert before != after and after.strip()
