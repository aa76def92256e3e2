"""The global log's bookkeeping on one DuckDB database, apart from its connections.

The log is every event table registered on the database, ordered by one ``position``
column. The book hands out positions (one counter for all the tables, under the
database's write lock), knows which tables make up the log, and counts how often stored
events left each table (archived, or edited by hand), so that every event store on it
knows when its cached stream heads may be ahead of the table.

These mirrors of the database's state are DuckDB's alone: one process writes a file.
The PostgreSQL store keeps its counter in a table instead (see ``es/postgres``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from mallbots.es.identifiers import checked_identifier


class LogBook:
    """Positions handed out, the log's tables, and removals, for one DuckDB database.

    It shares the database's write lock; it holds no connection (a registration reads
    the table's highest position through the ``execute`` it is given).
    """

    def __init__(self, write_lock: threading.RLock) -> None:
        self._write_lock = write_lock
        self._last_position = 0
        self._tables: list[str] = []
        self._removals: dict[str, int] = {}  # table -> times stored events left it

    @property
    def last_position(self) -> int:
        """The highest global position handed out (committed or in this transaction)."""
        return self._last_position

    def claim_positions(self, count: int) -> int:
        """Hand out ``count`` consecutive positions; returns the first.

        Call it holding the write lock, right before the insert that uses them, and
        call :meth:`release_positions` if that insert fails, so the log keeps no hole.
        """
        first = self._last_position + 1
        self._last_position += count
        return first

    def release_positions(self, first: int) -> None:
        """Give back positions from ``first`` on after a failed insert (or a rollback)."""
        self._last_position = first - 1

    def removals(self, table: str) -> int:
        """How many times stored events left ``table`` (archived, or edited by hand).

        Every event store on the table reads it: a stream head it cached before a
        removal may be ahead of the table, whichever store removed the events.
        """
        return self._removals.get(table, 0)

    def count_removal(self, table: str) -> None:
        """Record that stored events left ``table`` (see :meth:`removals`)."""
        with self._write_lock:
            self._removals[table] = self._removals.get(table, 0) + 1

    def register(self, table: str, execute: Callable[[str], Any]) -> None:
        """Count an event table into the global log and move the counter past it."""
        table = checked_identifier(table)
        with self._write_lock:
            if table not in self._tables:
                self._tables.append(table)
            (highest,) = execute(f"SELECT coalesce(max(position), 0) FROM {table}").fetchone()
            self._last_position = max(self._last_position, highest)

    @property
    def tables(self) -> tuple[str, ...]:
        """The event tables that make up the global log, in registration order."""
        return tuple(self._tables)
