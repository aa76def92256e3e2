"""The PostgreSQL server a benchmark runs on: the one given, or a throwaway cluster."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from mallbots.local_postgres import missing, throwaway_cluster


@contextmanager
def server_url(url: str | None, *, durable: bool = False) -> Iterator[str]:
    """``url`` if given, else the URL of a throwaway cluster (``durable`` as for
    :func:`~mallbots.local_postgres.throwaway_cluster`) stopped when the block ends.

    Raises SystemExit, saying why, if no cluster can be started here.
    """
    if url is not None:
        yield url
        return
    reason = missing()
    if reason is not None:
        raise SystemExit(f"give --url: cannot start a throwaway PostgreSQL here ({reason})")
    with throwaway_cluster(durable=durable) as cluster:
        yield cluster.url()
