"""Which database files are the shop's own: a marker written when the shop makes one.

A shop writes only to a database it created: one that holds the marker table
:data:`MARKER` (naming the application and its schema version), or an empty one, which
it marks as it adopts it. Any other DuckDB file belongs to someone else: the shop
refuses it before adding anything, so it can never drop or replace another
application's table (a rebuild drops and remakes its read models).

Files written by a MallBots from before the marker are recognised strictly: every
table in them is one the shop makes, with exactly the shop's columns, and the three
event tables are there. Anything less certain is refused with a message that says so.
"""

from __future__ import annotations

import weakref
from functools import cache

from mallbots.es import Database
from mallbots.es.errors import ForeignDatabaseError

APPLICATION = "mallbots"
SCHEMA_VERSION = 1
"""The version of the shop's tables; a file marked with a newer one is refused."""
MARKER = "main.mallbots_file"
MIRROR_MARKER = "main.mallbots_mirror"
"""In a file holding a PostgreSQL mall's read models (see ``mallbots.es.postgres.mirror``)."""
EVENT_TABLES = ("stores.events", "baskets.events", "ordering.events")

Columns = tuple[tuple[str, str], ...]


def claim(database: Database) -> None:
    """Let the shop write ``database``: its own, or empty (marked now); else refuse.

    Raises :class:`ForeignDatabaseError`, having written nothing, for any other file.
    Asked again of the same open database (``MallBots.open``, then the shop it makes),
    it answers from memory.
    """
    if database in _CLAIMED:
        return
    if _ownership(database) != MARKED:  # empty, or a shop from before the marker
        with database.transaction() as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {MARKER} (application VARCHAR NOT NULL, "
                "schema_version INTEGER NOT NULL, created_at TIMESTAMPTZ NOT NULL)"
            )
            cursor.execute(
                f"INSERT INTO {MARKER} VALUES ($1, $2, current_timestamp)",
                [APPLICATION, SCHEMA_VERSION],
            )
    _CLAIMED.add(database)


def require_shop(database: Database) -> None:
    """Refuse, writing nothing, a database that holds no shop (for commands that only read).

    Raises :class:`ForeignDatabaseError` for another application's file, and
    :class:`EmptyDatabaseError` for one that holds nothing yet.
    """
    if database not in _CLAIMED and _ownership(database) == EMPTY:
        raise EmptyDatabaseError(f"{database.path} holds no MallBots shop (it is empty)")


def refuse_mirror(database: Database) -> None:
    """Refuse, as a shop of its own, a file that holds a PostgreSQL mall's read models:
    a shop writing its own events there would fork the mall's log."""
    if database.has_table(MIRROR_MARKER):
        (source,) = database.execute(f"SELECT source FROM {MIRROR_MARKER}").fetchone()
        raise ForeignDatabaseError(
            f"{database.path} holds the read models of the mall at {source}, not a shop "
            "of its own: open it with MallBots.open(url, read_models=path), or read it "
            "(mallbots stats --db path); nothing was changed"
        )


MARKED, EMPTY, UNMARKED_SHOP = "marked", "empty", "a shop from before the marker"
_CLAIMED: weakref.WeakSet[Database] = weakref.WeakSet()
"""Open databases this process has claimed for the shop."""


def _ownership(database: Database) -> str:
    """Whose ``database`` is (one read of its tables); another application's is refused."""
    tables = user_tables(database)
    if _is_marked(database, tables):
        return MARKED
    if not tables:
        return EMPTY
    if _is_unmarked_shop(tables):
        return UNMARKED_SHOP
    raise ForeignDatabaseError(_foreign(database, tables))


class EmptyDatabaseError(ForeignDatabaseError):
    """A database with no tables at all: no shop to read."""


def user_tables(database: Database) -> dict[str, Columns]:
    """Every table and view of the database, by qualified name, with its columns."""
    rows = database.execute(
        "SELECT schema_name || '.' || table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = current_database() AND NOT internal "
        "ORDER BY schema_name, table_name, column_index"
    ).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        tables.setdefault(table, []).append((column, data_type))
    return {table: tuple(columns) for table, columns in tables.items()}


def _is_marked(database: Database, tables: dict[str, Columns]) -> bool:
    """Whether the marker says the shop made this file (a newer shop's file is refused)."""
    columns = tables.get(MARKER)
    if columns is None or [name for name, _ in columns][:2] != ["application", "schema_version"]:
        return False
    rows = database.execute(f"SELECT application, schema_version FROM {MARKER}").fetchall()
    if [application for application, _ in rows] != [APPLICATION]:
        return False
    (version,) = (version for _, version in rows)
    if version > SCHEMA_VERSION:
        raise ForeignDatabaseError(
            f"{database.path} was made by a newer MallBots (tables of version {version}; "
            f"this one knows up to {SCHEMA_VERSION}): open it with that version, or "
            "upgrade MallBots; nothing was changed"
        )
    return True


def _is_unmarked_shop(tables: dict[str, Columns]) -> bool:
    """A shop file from before the marker: only the shop's tables, column for column."""
    shop = shop_tables()
    return all(table in tables for table in EVENT_TABLES) and all(
        shop.get(table) == columns for table, columns in tables.items()
    )


@cache
def shop_tables() -> dict[str, Columns]:
    """The tables a shop makes, with their columns (read off a new shop in memory)."""
    from mallbots.app import MallBots  # the shop is built on this module

    with MallBots.in_memory(seed=None) as shop:
        tables = user_tables(shop.database)
    tables.pop(MARKER)
    for events in EVENT_TABLES:  # archives are made alike when streams are first archived
        tables[f"{events}_archive"] = tables[events]
    return tables


def _foreign(database: Database, tables: dict[str, Columns]) -> str:
    shown = ", ".join(sorted(tables)[:4]) + (" ..." if len(tables) > 4 else "")
    return (
        f"{database.path} was not made by MallBots (it holds {shown}, and no MallBots "
        "marker): the shop adds nothing to another application's database. Give a new "
        "file name, or a file the shop made; nothing was changed"
    )
