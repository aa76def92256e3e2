"""The notebooks under nbval: one that needs PostgreSQL is skipped, saying why, where none
can be had (see ``tests/postgres_support.py``); ``MALLBOTS_REQUIRE_POSTGRES=1`` runs it."""

from __future__ import annotations

import pytest

from tests.postgres_support import notebook_skip_reason


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.parent.name != "notebooks" or item.path.suffix != ".ipynb":
            continue
        reason = notebook_skip_reason(item.path.name)
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=reason))
