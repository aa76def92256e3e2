"""What a student's process does with its shop on the class's mall.

Each function runs in a student's process (:class:`~mallbots.classroom.students.Student`
sends it there) and works on the shop that process opened with :func:`open_shop`: a
:class:`~mallbots.app.MallBots` writing to the shared PostgreSQL log and reading from
read models in a DuckDB of its own. The notebook asks for results it can print:
counts, tables, ids.
"""

from __future__ import annotations

import contextlib
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mallbots.classroom.students import here
from mallbots.es.errors import ConcurrencyError

WAIT_FOR_WAITER = 10.0
"""Seconds :func:`commit_once_another_waits` waits for another session to queue up."""


def open_shop(url: str) -> int:
    """Open this process's shop on the mall at ``url``; how many events its read models
    took in. Its ids and clock are seeded by the student's name: the same on every run,
    and different from the other students' (two shops with one seed draw the same ids)."""
    from mallbots.app import MallBots

    shop = MallBots.open(url, seed=zlib.crc32(here()["name"].encode()))
    here()["shop"] = shop
    return shop.log.count()


def shop() -> Any:
    """This process's shop (:func:`open_shop` first)."""
    return here()["shop"]


def execute(command: Any) -> Any:
    """Run ``command`` on this process's shop."""
    return shop().execute(command)


def execute_retrying(command: Any, attempts: int = 3) -> tuple[Any, list[str]]:
    """Run ``command``; on a conflict with another process, run it again (it reloads the
    aggregate), up to ``attempts`` times. Its result, and the conflicts it met."""
    conflicts = []
    for _ in range(attempts - 1):
        try:
            return execute(command), conflicts
        except ConcurrencyError as conflict:
            conflicts.append(str(conflict))
    return execute(command), conflicts


def build_small_mall() -> Any:
    """The workbook's small mall (:func:`mallbots.workbook.small_mall`), built here."""
    from mallbots.workbook import small_mall

    return small_mall(shop())


def hold(command: Any) -> None:
    """Run ``command`` in a transaction on the server and leave it open, uncommitted, as a
    command still at work would (:func:`commit_once_another_waits` ends it)."""
    held = contextlib.ExitStack()
    held.enter_context(shop().server.transaction())
    try:
        execute(command)
    except BaseException:
        held.close()
        raise
    here()["held"] = held


def commit_once_another_waits() -> bool:
    """Commit the transaction :func:`hold` left open, as soon as another session of the
    database waits for one of its locks; whether one did (else it commits after
    :data:`WAIT_FOR_WAITER` seconds all the same)."""
    server = shop().server
    deadline = time.monotonic() + WAIT_FOR_WAITER
    waited = False
    # Asked from another thread: its own session, outside the transaction held here.
    with ThreadPoolExecutor(max_workers=1) as watcher:
        while not waited and time.monotonic() < deadline:
            waited = watcher.submit(_someone_waits, server).result() > 0
            time.sleep(0.005)
    here().pop("held").close()
    return waited


def _someone_waits(server: Any) -> int:
    (waiting,) = server.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock'"
    ).fetchone()
    return waiting


def add_products(store_id: str, count: int) -> list[str]:
    """Add ``count`` more products to ``store_id``, numbered after this student's name (``ada-1``,
    ``ada-2``, ...); their ids."""
    from mallbots.stores import AddProduct

    name, first = here()["name"], here().get("products", 0) + 1
    here()["products"] = first + count - 1
    return [
        execute(AddProduct(store_id, f"{name}'s product {n}", "1.00", product_id=f"{name}-{n}"))
        for n in range(first, first + count)
    ]


def standing(projection: str = "stores.mall") -> tuple[int, int]:
    """Where this process's read model ``projection`` stands, and the server log's head."""
    return shop().projector.position(projection), shop().server.last_position


def catch_up() -> int:
    """Bring this process's read models up to the shared log; how many events came in."""
    return shop().catch_up()


def read_model(table: str) -> Any:
    """One of this process's read models (or tables), as a DataFrame."""
    return shop().read_model(table)


def close_shop() -> None:
    """Close this process's shop."""
    here().pop("shop").close()
