"""Reading a shop's file without a shop: read-only, so reading never writes.

Opening a shop creates its tables and brings its read models up to date, which writes.
Commands that only look (``mallbots events``, ``stats``, ``check``) open the file
read-only instead, so they work beside another reader, on a read-only file or file
system, and change nothing; where the read models are behind the log they say so.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from mallbots.app import MallBots, shop_registry
from mallbots.es import Database, EventLog
from mallbots.ownership import require_shop
from mallbots.shop_check import event_tables_of, shop_tables


def open_for_reading(path: str | Path) -> Database:
    """The database of a shop's file, read-only; refused (and closed) if it holds no shop."""
    database = Database.open(path, read_only=True)
    try:
        require_shop(database)
    except BaseException:
        database.close()
        raise
    return database


def event_tables(database: Database) -> list[str]:
    """The shop's event tables (and archives) that the database holds, module by module."""
    return event_tables_of(shop_tables(database))


def read_log(database: Database) -> EventLog:
    """The shop's global log on a database opened for reading."""
    return EventLog(database, shop_registry(), event_tables(database))


def read_models_behind(database: Database) -> dict[str, int]:
    """Each read model the log has events for that it has not taken in: name -> how many.

    A projection's stored checkpoint may trail the events it skips (they move it in
    memory only), so only the events it handles count.
    """
    log = read_log(database)
    checkpoints = dict(
        database.execute(
            "SELECT name, position FROM projections.checkpoints"
            if database.has_table("projections.checkpoints")
            else "SELECT NULL, NULL WHERE false"  # a copied shop never opened: nothing read yet
        ).fetchall()
    )
    behind = {}
    for name, handles in _handled_events().items():
        after = checkpoints.get(name, 0)
        (unseen,) = database.execute(
            f"SELECT count(*) FROM ({log.sql()}) WHERE position > $1 "
            "AND event_name IN (SELECT unnest($2::VARCHAR[]))",
            [after, sorted(handles)],
        ).fetchone()
        if unseen:
            behind[name] = unseen
    return behind


def behind_note(database: Database) -> str | None:
    """One line saying which read models are behind the log, or None if none is."""
    behind = read_models_behind(database)
    if not behind:
        return None
    shown = ", ".join(f"{name} ({count:,} events)" for name, count in behind.items())
    return (
        f"note: read models behind the log in {database.path}: {shown}. Shown as stored; "
        "`mallbots rebuild` (or opening the shop in a notebook) brings them up to date."
    )


@cache
def _handled_events() -> dict[str, frozenset[str]]:
    """The event names each of the shop's projections handles (read off a shop in memory)."""
    with MallBots.in_memory(seed=None) as shop:
        return {p.name: frozenset(p.handles) for p in shop.projector}
