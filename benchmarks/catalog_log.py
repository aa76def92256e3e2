"""The log both sides rebuild the catalog from: the same store and product events.

Workloads 7 and 8 rebuild a product catalog from a log of store and product events.
The log is :func:`benchmarks.rebuild.build_log`'s (a thousand events per store, each
product added, repriced, rebranded, one in ten removed), made once per size in the
run's cache folder. MallBots reads a copy of that DuckDB file; the peer stores the
same events, stream by stream and in the same order, through its own aggregates
(:mod:`benchmarks.peer_side`). Each side checks that its rebuilt catalog matches
:func:`expected_catalog`: the same products at the same total price.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb

from benchmarks.rebuild import build_log

_building = threading.Lock()


def cached_log(workdir: Path, events: int) -> Path:
    """The DuckDB file of the ``events``-event log, built once per run in a cache folder.

    ``workdir`` is a workload's folder inside the run's temporary folder; the cache sits
    beside it. Callers copy the file (see :func:`copy_log`) rather than change it.
    """
    cache = workdir.parent / "catalog-logs"
    cache.mkdir(exist_ok=True)
    path = cache / f"log-{events}.duckdb"
    with _building:
        if not path.exists():
            building = path.with_suffix(".building")
            building.unlink(missing_ok=True)
            build_log(building, events)
            building.rename(path)
    return path


def copy_log(workdir: Path, events: int) -> Path:
    """A private copy of the log in ``workdir``, to open read-write."""
    copy = workdir / "catalog.duckdb"
    shutil.copyfile(cached_log(workdir, events), copy)
    return copy


def stored_events(path: Path, batch: int = 50_000) -> Iterator[tuple]:
    """``(stream_name, stream_id, version, event_name, event_data)`` in position order."""
    connection = duckdb.connect(str(path), read_only=True)
    try:
        result = connection.execute(
            "SELECT stream_name, stream_id, stream_version, event_name, event_data "
            "FROM stores.events ORDER BY position"
        )
        while rows := result.fetchmany(batch):
            yield from rows
    finally:
        connection.close()


def expected_catalog(path: Path) -> tuple[int, Decimal]:
    """How many products the log leaves on sale, and their total price.

    Read from the events alone (not from any read model): a product is on sale unless
    removed, and its price is the added price plus every delta.
    """
    connection = duckdb.connect(str(path), read_only=True)
    try:
        count, total = connection.execute(
            """
            SELECT count(*), sum(price) FROM (
                SELECT stream_id,
                    sum(CASE event_name
                        WHEN 'stores.ProductAdded' THEN (event_data->>'price')::DECIMAL(18, 2)
                        WHEN 'stores.ProductPriceIncreased'
                            THEN (event_data->>'delta')::DECIMAL(18, 2)
                        WHEN 'stores.ProductPriceDecreased'
                            THEN (event_data->>'delta')::DECIMAL(18, 2)
                        ELSE 0 END) AS price
                FROM stores.events WHERE stream_name = 'stores.Product'
                GROUP BY stream_id
                HAVING count(*) FILTER (WHERE event_name = 'stores.ProductRemoved') = 0
            )
            """
        ).fetchone()
    finally:
        connection.close()
    return count, Decimal(total)
