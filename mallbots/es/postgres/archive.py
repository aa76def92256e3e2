"""Archiving on PostgreSQL: closed streams move to ``<table>_archive``, still in the log.

As on DuckDB (:mod:`mallbots.es.duckdb.archive`): whole streams move out of the hot
table, which every save and load searches, into ``<table>_archive``, registered in the
global log's tables (:data:`~mallbots.es.postgres.schema.EVENT_TABLES`), so reading the
log by position, rebuilds and time travel still find every event. The archive is made,
registered and filled in the same transaction as the rows leave the hot table: a reader
that lists the log's tables and reads them in one snapshot sees every event once.
The read side's mirror copies archived events it had not copied yet and keeps the
ones it had where they were (see :mod:`mallbots.es.postgres.mirror`).

Concurrency. Other processes append while a stream is archived, and an append reads
the stream's head in its statement's snapshot. The position counter's lock does not
order them: an append takes its snapshot before it waits for the counter, so one that
waited for the archive would still see the stream's old head and write the next
version into the hot table, beside a stream that has left it. So the archive first
locks the hot table ``IN EXCLUSIVE MODE``, which waits for the appends in flight to
commit (their events then move too) and holds back new ones until it commits; reads go
on meanwhile. PostgreSQL takes a waiting statement's snapshot once it holds its table
locks, so a held-back append sees the stream gone, at version 0, and is refused as a
:class:`~mallbots.es.errors.ConcurrencyError`, as on DuckDB. The wait is the appenders'
``lock_timeout`` (a short move: the closed streams only). Snapshots stay where they
are, as on DuckDB.
"""

from __future__ import annotations

from collections.abc import Iterable

from mallbots.es.event_rows import StreamKey, archive_table_of, stream_key_columns
from mallbots.es.postgres.append_statement import NAMES as _NAMES
from mallbots.es.postgres.database import PostgresDatabase
from mallbots.es.postgres.schema import event_table_sql


class PostgresArchiving:
    """Part of :class:`~mallbots.es.postgres.event_store.PostgresEventStore`:
    ``<table>_archive``."""

    database: PostgresDatabase
    table: str

    @property
    def archive_table(self) -> str:
        return archive_table_of(self.table)

    def archive(self, streams: Iterable[StreamKey]) -> int:
        """Move whole streams ``(stream_name, stream_id)`` to ``<table>_archive``.

        For streams that never change again (their books are closed). One transaction
        (the caller's, if one is open); returns how many events moved.
        """
        names, ids = stream_key_columns(streams)
        if not names:
            return 0
        database = self.database
        with database.transaction() as cursor:
            cursor.execute(f"LOCK TABLE {self.table} IN EXCLUSIVE MODE")
            database.create(event_table_sql(self.archive_table))  # joins this transaction
            moved = cursor.execute(
                f"WITH moved AS (DELETE FROM {self.table} WHERE (stream_name, stream_id) IN "
                "(SELECT * FROM unnest(%s::text[], %s::text[])) "
                f"RETURNING {_NAMES}) INSERT INTO {self.archive_table} ({_NAMES}) "
                f"SELECT {_NAMES} FROM moved",
                [names, ids],
            ).rowcount
        database.after_commit(database.refresh_log_tables)
        return moved
