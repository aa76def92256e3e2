"""MallBots Workbook: event sourcing and CQRS on the MallBots application, over DuckDB."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from mallbots.app import MallBots
    from mallbots.errors import DomainError

__all__ = ["DomainError", "MallBots"]

_LAZY = {"MallBots": "mallbots.app", "DomainError": "mallbots.errors"}


def __getattr__(name: str) -> Any:
    """``MallBots`` and ``DomainError``, imported on first use.

    So ``python -m mallbots`` starts with nothing heavy loaded, and a Ctrl-C while
    DuckDB and pandas load is caught by the command line (one line, exit 130).
    """
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mallbots' has no attribute {name!r}")
