"""The figures the reliability suite measures, printed at the end of the run.

Tests add to :data:`FIGURES`; ``conftest.py`` prints whatever was counted in pytest's
terminal summary, so the numbers show with or without ``-s``.
"""

from __future__ import annotations

import threading
from collections import Counter

FIGURES: Counter[str] = Counter()
_LOCK = threading.Lock()

ORDER = [
    "saves attempted",
    "saves landed",
    "conflicts raised",
    "saves refused (payload no store can hold)",
    "events written",
    "events lost",
    "reader polls",
    "events seen by readers",
    "positions seen out of order",
    "kills survived",
    "saves acknowledged before a kill",
    "saves in flight at a kill",
    "  of which had committed",
    "half-written saves found",
    "inputs tried",
    "inputs stored and read back exactly",
    "inputs refused with a clear error",
    "damaged rows planted",
    "problems reported",
]


def count(name: str, n: int = 1) -> None:
    """Add ``n`` to the figure ``name``."""
    with _LOCK:
        FIGURES[name] += n


def lines() -> list[str]:
    """The figures counted in this run, in a fixed order."""
    names = [n for n in ORDER if n in FIGURES] + sorted(set(FIGURES) - set(ORDER))
    width = max((len(n) for n in names), default=0)
    return [f"{name:<{width}}  {FIGURES[name]:>9,}" for name in names]
