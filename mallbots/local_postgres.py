"""A throwaway PostgreSQL on this machine: for a notebook, a benchmark or the tests.

The cluster lives in a temporary folder, listens on 127.0.0.1 at a free port, trusts
local connections and exists while its ``with`` block runs. By default it keeps
nothing (no fsync, no synchronous commit, no full-page writes), which suits tests; a
``durable`` one flushes every commit to disk as a class's server does, for benchmarks
that should measure what a commit really costs.
As root, ``initdb`` and ``pg_ctl`` run through the ``postgres`` user, since ``initdb``
refuses to run as root. :func:`missing` says why one cannot start here (no server
binaries, no psycopg). A class shares a real server instead (see the README).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from mallbots.es.urls import is_server_url

BINARY_FOLDERS = "/usr/lib/postgresql/*/bin"
SERVER_USER = "postgres"


def binaries() -> Path | None:
    """The folder of the newest installed PostgreSQL's server binaries, if any."""
    on_path = shutil.which("pg_ctl")
    if on_path and Path(on_path).with_name("initdb").exists():
        return Path(on_path).parent
    found = sorted(
        glob.glob(BINARY_FOLDERS), key=lambda folder: int(Path(folder).parent.name), reverse=True
    )
    return Path(found[0]) if found else None


def missing_driver() -> str | None:
    """Why no PostgreSQL server can be talked to from here (psycopg is missing), or None."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'psycopg[binary]')"
    return None


def missing() -> str | None:
    """Why a cluster cannot be started here, or None if it can."""
    if (driver := missing_driver()) is not None:
        return driver
    if binaries() is None:
        return "PostgreSQL's server binaries are not installed (apt-get install postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root and there is no {SERVER_USER!r} user to run initdb as"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """A running throwaway cluster; :meth:`database` hands out fresh databases on it."""

    def __init__(self, folder: Path, port: int, durable: bool = False) -> None:
        self.folder = folder
        self.port = port
        self.durable = durable

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/{database}"

    def database(self, prefix: str = "test") -> contextlib.AbstractContextManager[str]:
        """A new, empty database for one test; dropped afterwards (its sessions too)."""
        return scratch_database(self.url(), prefix)


@contextlib.contextmanager
def scratch_database(server_url: str, prefix: str = "scratch") -> Iterator[str]:
    """The URL of a new, empty database on the server of ``server_url``, dropped (with its
    sessions) when the ``with`` block ends. The URL's user needs the CREATEDB privilege."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE template0")
    try:
        yield _with_database(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _with_database(url: str, name: str) -> str:
    """``url`` (``postgresql://user@host:port/db?options``) naming database ``name`` instead."""
    if not is_server_url(url):
        raise ValueError(f"a PostgreSQL URL starts with postgresql://, not {url.split(':')[0]!r}")
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _as_server_user(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        command = ["runuser", "-u", SERVER_USER, "--", *command]
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)


@contextlib.contextmanager
def throwaway_cluster(*, durable: bool = False) -> Iterator[Cluster]:
    """Start a cluster in a temporary folder; stop it and delete the folder on exit.

    ``durable``: fsync, synchronous commit and full-page writes on (PostgreSQL's
    defaults), so that a commit waits for its flush to disk; off by default, for speed.
    """
    bin_folder = binaries()
    assert bin_folder is not None, missing()
    folder = Path(tempfile.mkdtemp(prefix="mallbots-pg-"))
    if os.geteuid() == 0:
        server = pwd.getpwnam(SERVER_USER)
        os.chown(folder, server.pw_uid, server.pw_gid)
    data, port = folder / "data", free_port()
    switch = "on" if durable else "off"
    try:
        initdb = [str(bin_folder / "initdb"), "-D", str(data), "-U", SERVER_USER]
        _as_server_user([*initdb, "--auth=trust", "--encoding=UTF8", "--no-sync"])
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder} "
            f"-c fsync={switch} -c synchronous_commit={switch} -c full_page_writes={switch} "
            "-c max_connections=60"
        )
        pg_ctl = [str(bin_folder / "pg_ctl"), "-D", str(data)]
        log = str(folder / "log")
        _as_server_user([*pg_ctl, "-o", options, "-w", "-t", "30", "-l", log, "start"])
        try:
            yield Cluster(folder, port, durable)
        finally:
            _as_server_user([*pg_ctl, "-m", "immediate", "stop"])
    except subprocess.CalledProcessError as error:
        server_log = folder / "log"
        told = server_log.read_text()[-2000:] if server_log.exists() else ""
        raise RuntimeError(
            f"could not start a throwaway PostgreSQL: {' '.join(error.cmd)} said "
            f"{error.stderr.strip() or error.stdout.strip()} {told}"
        ) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
