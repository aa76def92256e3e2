"""Print the reliability figures (saves, conflicts, kills, inputs, losses) after the run."""

from __future__ import annotations

from tests.reliability import figures


def pytest_terminal_summary(terminalreporter):
    if not figures.FIGURES:
        return
    terminalreporter.write_sep("=", "reliability figures")
    for line in figures.lines():
        terminalreporter.write_line(line)
