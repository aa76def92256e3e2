"""Drive a real JupyterLab in headless Chromium (Debian's package, no browser download)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """The system Chromium, if installed."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def require_browser() -> str:
    """The Chromium to drive; skips the test where there is none, unless CI requires it.

    CI sets MALLBOTS_REQUIRE_BROWSER=1: there a missing browser is a failure.
    """
    import pytest

    path = chromium_path()
    if path is None:
        if os.environ.get("MALLBOTS_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required here (MALLBOTS_REQUIRE_BROWSER=1) but not installed")
        pytest.skip("Chromium is not installed (apt-get install chromium to run this test)")
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def jupyter_lab(root: Path, log_path: Path) -> Iterator[str]:
    """Start JupyterLab on localhost serving ``root``; yields its base URL with token."""
    port, token = _free_port(), secrets.token_hex(16)
    settings = Path(tempfile.mkdtemp(prefix="lab-settings-"))
    env = {**os.environ, "JUPYTER_NO_CONFIG": "1", "JUPYTERLAB_SETTINGS_DIR": str(settings)}
    _write_lab_settings(settings)
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--ip=127.0.0.1",
                f"--port={port}",
                f"--ServerApp.token={token}",
                f"--ServerApp.root_dir={root}",
                "--ServerApp.open_browser=False",
                "--ServerApp.allow_root=True",
                "--LabApp.news_url=''",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=root,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_until_up(f"{url}/api/status?token={token}", server)
            yield f"{url}|{token}"
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
            shutil.rmtree(settings, ignore_errors=True)


LAB_SETTINGS = {
    # Every cell rendered, not only those in view: a test can then see each one.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # No "would you like news?" pop-up over the page.
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
}


def _write_lab_settings(folder: Path) -> None:
    """User settings for the test's JupyterLab (JUPYTERLAB_SETTINGS_DIR points here)."""
    for name, values in LAB_SETTINGS.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def _wait_until_up(status_url: str, server: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("JupyterLab exited before it was ready; see its log")
        try:
            with urllib.request.urlopen(status_url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError("JupyterLab did not answer within 90 s")
