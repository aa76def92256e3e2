"""Archiving: streams whose books are closed move out of the hot table, not out of the log."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from mallbots.es.duckdb.database import Database
from mallbots.es.event_rows import StreamKey, stream_key_columns


class Archiving:
    """Part of :class:`~mallbots.es.duckdb.event_store.EventStore`: ``<table>_archive``."""

    database: Database
    table: str
    archive_table: str

    if TYPE_CHECKING:  # from the event store

        def _create_table(self, table: str | None = None) -> None: ...

    def archive(self, streams: Iterable[StreamKey]) -> int:
        """Move whole streams ``(stream_name, stream_id)`` to ``<table>_archive``.

        For streams that never change again (their books are closed): the hot table,
        which every save and load searches, keeps only living streams, while the global
        log (and so every rebuild and time travel) still reads the archived events.
        One transaction; returns how many events moved.
        """
        names, ids = stream_key_columns(streams)
        if not names:
            return 0
        if not self.database.has_table(self.archive_table):
            self._create_table(self.archive_table)
            self.database.log_book.register(self.archive_table, self.database.execute)
        where = "(stream_name, stream_id) IN (SELECT unnest($1), unnest($2))"
        with self.database.transaction() as cursor:
            cursor.execute(
                f"INSERT INTO {self.archive_table} SELECT * FROM {self.table} WHERE {where}",
                [names, ids],
            )
            (moved,) = cursor.execute(
                f"DELETE FROM {self.table} WHERE {where}", [names, ids]
            ).fetchone()
            # An archived stream has no head here any more: a save from a copy loaded
            # before the move must be checked against the table, and so refused. Every
            # store on the table empties its cache of heads when it sees the count move.
            self.database.log_book.count_removal(self.table)
        return moved
