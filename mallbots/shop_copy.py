"""Copy a shop's write side between a DuckDB file and PostgreSQL, either way.

How a user moves a shop from the embedded default to a server (``mallbots copy
mallbots.duckdb postgresql://...``), and back to read it offline. Copied: everything
the write side owns, as stored: every module's events (archives too), snapshots and
continuations, and the plain modules' tables (customers, payments, invoices, depot,
notifications). Not copied: read models and their checkpoints, which the target
rebuilds from the log when a shop opens it.

The source must hold a shop; the target must hold none of its rows yet (a new file or
database, or an empty shop): otherwise nothing is copied. The whole copy is one
transaction on the target, so it lands whole or not at all.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from mallbots.app import SCHEMAS
from mallbots.es import Database, EventSourcingError
from mallbots.es.duckdb.transfer import DuckDBSide
from mallbots.es.errors import ForeignDatabaseError
from mallbots.es.transfer import (
    Copied,
    Plan,
    Progress,
    Side,
    TransferError,
    copy_tables,
    listed,
    rows_held,
)
from mallbots.es.urls import DRIVER_HINT, is_server_url, shown
from mallbots.ownership import EVENT_TABLES, EmptyDatabaseError, claim
from mallbots.reading import open_for_reading
from mallbots.shop_check import PLAIN_TABLES, event_tables_of

if TYPE_CHECKING:
    from mallbots.es.postgres.database import PostgresDatabase

LOG_BOOKKEEPING = ("mallbots.log_position", "mallbots.event_tables")
"""The tables every PostgreSQL database holding a shop's log has (see its store's schema)."""


def _server_store() -> ModuleType:
    """The PostgreSQL store's copying module, or an error saying how to install its driver."""
    try:
        from mallbots.es.postgres import transfer
    except ImportError as error:
        raise EventSourcingError(
            f"a postgresql:// URL needs the PostgreSQL driver, psycopg ({error}): {DRIVER_HINT}"
        ) from None
    return transfer


def write_side_candidates() -> list[str]:
    """Every table a shop's write side may hold, module by module."""
    per_module = ("events", "events_archive", "snapshots", "continuations")
    return [f"{schema}.{name}" for schema in SCHEMAS for name in per_module] + list(PLAIN_TABLES)


def write_side(side: Side) -> Plan:
    """The plan that copies every table of the shop's write side that ``side`` holds."""
    held = side.shapes(write_side_candidates())
    of_kind = lambda *names: tuple(t for t in held if t.rpartition(".")[2] in names)  # noqa: E731
    return Plan(
        events=tuple(event_tables_of(list(held))),
        snapshots=of_kind("snapshots"),
        continuations=of_kind("continuations"),
        plain=tuple(t for t in PLAIN_TABLES if t in held),
    )


def copy_shop(source: str, target: str, progress: Progress | None = None) -> Copied:
    """Copy the shop at ``source`` into ``target`` (each a DuckDB file or a URL).

    Raises :class:`~mallbots.ownership.EmptyDatabaseError` if the source holds nothing,
    :class:`~mallbots.es.errors.ForeignDatabaseError` if it holds no shop (or the target file is
    another application's), and
    :class:`~mallbots.es.transfer.TransferError` if the target already holds rows of a
    shop; either way the target is left as it was (a new target file is removed).
    """
    if _same(source, target):
        raise ForeignDatabaseError(f"{shown(source)} is both the source and the target")
    with ExitStack() as stack:
        source_side = _open_source(source, stack)
        plan = write_side(source_side)
        if is_server_url(target):
            target_side = _postgres_side(_postgres(target, stack))
            return copy_tables(source_side, target_side, plan, progress)
        new_file = not os.path.lexists(target)
        try:
            database = stack.enter_context(Database.open(target))
            with database.transaction():  # the shop's marker lands with the copy, or not
                claim(database)
                return copy_tables(source_side, DuckDBSide(database), plan, progress)
        except BaseException:
            if new_file:
                stack.close()
                for file in (Path(target), Path(f"{target}.wal")):
                    file.unlink(missing_ok=True)
            raise


def refuse_full_target(target: str) -> None:
    """Raise :class:`~mallbots.es.transfer.TransferError` if the database at ``target``
    (a URL, or a file) already holds rows of a shop's write side, which a copy into it
    refuses: to say so before the work of making what would be copied."""
    with ExitStack() as stack:
        if is_server_url(target):
            side = _postgres_side(_postgres(target, stack))
        elif os.path.lexists(target):
            side = DuckDBSide(stack.enter_context(open_for_reading(target)))
        else:
            return
        database = side.database  # type: ignore[attr-defined]
        with side.errors():
            tables = list(side.shapes(write_side_candidates()))
            full = rows_held(database, tables)
    if full:
        raise TransferError(
            f"{shown(target)} already holds a shop's rows in {listed(full)}: copy into a new, "
            "empty database; nothing was done"
        )


def _open_source(source: str, stack: ExitStack) -> Side:
    if not is_server_url(source):
        return DuckDBSide(stack.enter_context(open_for_reading(source)))
    side = _postgres_side(_postgres(source, stack))
    with side.errors():
        found = side.shapes([*LOG_BOOKKEEPING, *EVENT_TABLES])
        (tables,) = side.database.execute(  # type: ignore[attr-defined]
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN "
            "('pg_catalog', 'information_schema')"
        ).fetchone()
    if not tables:
        raise EmptyDatabaseError(f"{shown(source)} holds no MallBots shop (it is empty)")
    lacking = [t for t in (*LOG_BOOKKEEPING, *EVENT_TABLES) if t not in found]
    if lacking:
        raise ForeignDatabaseError(
            f"{shown(source)} holds no MallBots shop (it lacks {', '.join(lacking)}); "
            "nothing was copied"
        )
    return side


def _postgres(url: str, stack: ExitStack) -> PostgresDatabase:
    """A connection that writes nothing by itself (the copy makes what it needs)."""
    return stack.enter_context(_server_store().PostgresDatabase.open(url, create=False))


def _postgres_side(database: PostgresDatabase) -> Side:
    return _server_store().PostgresSide(database)


def _same(source: str, target: str) -> bool:
    if is_server_url(source) or is_server_url(target):
        return source == target
    return os.path.realpath(source) == os.path.realpath(target)
