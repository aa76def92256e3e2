"""Where a class's PostgreSQL comes from: the instructor's server, or one on this machine.

An instructor who runs one server for the class sets ``MALLBOTS_POSTGRES_URL`` (for
example ``postgresql://class@db.example.org/postgres``) in each student's environment;
otherwise a throwaway cluster is started here (:mod:`mallbots.local_postgres`). Either
way a notebook makes databases of its own on it (:meth:`ClassServer.new_database`), so
its run does not meet another's and gives the same output every time.
"""

from __future__ import annotations

import atexit
import contextlib
import os

from mallbots.local_postgres import (
    missing,
    missing_driver,
    scratch_database,
    throwaway_cluster,
)

CLASS_URL = "MALLBOTS_POSTGRES_URL"
"""The environment variable naming the class's PostgreSQL server, as a URL."""


def class_server_url() -> str | None:
    """The class's server, if ``MALLBOTS_POSTGRES_URL`` names one."""
    return os.environ.get(CLASS_URL) or None


def why_no_server() -> str | None:
    """Why no PostgreSQL can be had here (no class server and no local binaries), or None."""
    return missing() if class_server_url() is None else missing_driver()


class ClassServer:
    """A PostgreSQL server to work on: the class's, or a throwaway cluster started here.

    Everything it made (databases, the cluster) goes when it is closed, or at the
    latest when the Python process ends.
    """

    def __init__(self) -> None:
        reason = why_no_server()
        if reason is not None:
            raise RuntimeError(
                f"no PostgreSQL to work on: {reason}. Set {CLASS_URL} to a server's URL "
                "(postgresql://user@host:port/database), or install PostgreSQL here."
            )
        self._made = contextlib.ExitStack()
        url = class_server_url()
        self.throwaway = url is None
        if url is None:
            url = self._made.enter_context(throwaway_cluster()).url()
        self.url = url
        """The server's URL, for making and dropping databases."""
        atexit.register(self.close)

    def new_database(self, prefix: str = "mall") -> str:
        """The URL of a new, empty database, dropped when the server is closed.

        On a class's server its user needs the CREATEDB privilege.
        """
        return self._made.enter_context(scratch_database(self.url, prefix))

    def database(self, prefix: str = "scratch") -> contextlib.AbstractContextManager[str]:
        """A new, empty database for one ``with`` block."""
        return scratch_database(self.url, prefix)

    def close(self) -> None:
        """Drop the databases made here; stop the cluster if it was started here."""
        self._made.close()
        atexit.unregister(self.close)

    def __enter__(self) -> ClassServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = "a throwaway cluster on this machine" if self.throwaway else f"${CLASS_URL}"
        return f"ClassServer({where})"
