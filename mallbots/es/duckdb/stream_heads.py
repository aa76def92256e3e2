"""The cache of stream heads: a save's version check answered without a statement.

Kept under the write lock; the primary key stays the last word (a row at a taken
version is refused by DuckDB itself). Every store on a table empties its cache when the
database counts a removal of events from it (archived, or edited by hand).
"""

from __future__ import annotations

from collections import OrderedDict

import duckdb

from mallbots.es.duckdb.database import Database
from mallbots.es.event_rows import StreamKey

_HEAD_CACHE_SIZE = 100_000


class StreamHeadCache:
    """Part of :class:`~mallbots.es.duckdb.event_store.EventStore`: its cached stream heads."""

    database: Database
    table: str
    _heads: OrderedDict[StreamKey, int]
    _heads_as_of: int  # the table's removals when the cached heads were last valid
    _select_heads: duckdb.Statement

    def _head_from_table(self, cursor: duckdb.DuckDBPyConnection, key: StreamKey) -> int:
        heads = cursor.execute(self._select_heads, [key[1]]).fetchall()
        return dict(heads).get(key[0], 0)

    def _head_loaded(self, key: StreamKey, version: int, removals: int) -> None:
        """Remember the head a load read to, so the save that follows need not ask the table.

        Only a head that cannot be ahead of the table: none if events were removed
        since the read began, and, inside a transaction (whose own events the read may
        have seen), forgotten if it rolls back. One that another writer has passed
        since is harmless, as the save it lets through is refused by the primary key.
        A load never waits for a writer: if another thread holds the lock, the head is
        not kept.
        """
        database = self.database
        if not database.write_lock.acquire(blocking=False):
            return
        try:
            if removals != database.log_book.removals(self.table):
                return
            self._remember_head(key, version)
            database.on_rollback(lambda: self._heads.pop(key, None))
        finally:
            database.write_lock.release()

    def _remember_head(self, key: StreamKey, version: int) -> None:
        heads = self._heads
        heads[key] = version
        heads.move_to_end(key)
        if len(heads) > _HEAD_CACHE_SIZE:
            heads.popitem(last=False)

    def forget_heads(self) -> None:
        """Drop the cache of stream heads (after editing the table by hand), in every
        event store on the table."""
        with self.database.writing():
            self.database.log_book.count_removal(
                self.table
            )  # each store empties its own on its next use

    def _cached_heads(self) -> OrderedDict[StreamKey, int]:
        """The cached heads, emptied first if events left the table since they were valid."""
        removals = self.database.log_book.removals(self.table)
        if removals != self._heads_as_of:
            self._heads.clear()
            self._heads_as_of = removals
        return self._heads
