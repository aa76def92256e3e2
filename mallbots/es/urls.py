"""Server URLs: telling one from a file path, and showing one without its password.

Kept apart from :mod:`mallbots.es.postgres` so that the command line and the shop can
ask without importing a database driver.
"""

from __future__ import annotations

import re
from pathlib import Path

SCHEMES = ("postgresql://", "postgres://")
_PASSWORD = re.compile(r"(://[^:/@]+:)[^@/]*@")
_PASSWORD_PARAMETER = re.compile(r"(\bpassword=)[^&\s]*", re.IGNORECASE)


def is_server_url(location: str | Path) -> bool:
    """Whether ``location`` names a PostgreSQL database (``postgresql://...``), not a file."""
    return isinstance(location, str) and location.startswith(SCHEMES)


def shown_url(url: str) -> str:
    """The URL with any password (``user:password@``, ``?password=``) replaced by ``***``,
    fit for an error message."""
    return _PASSWORD_PARAMETER.sub(r"\1***", _PASSWORD.sub(r"\1***@", url))


def shown(location: str | Path) -> str:
    """A file path as it is, a server URL without its password."""
    return shown_url(location) if is_server_url(location) else str(location)
