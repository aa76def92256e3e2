"""Appending to many streams at once: every expected version checked first, then all the
rows in one columnar INSERT, so a conflict in any stream writes nothing (a bulk load)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

import duckdb

from mallbots.es.duckdb.database import Database
from mallbots.es.duckdb.frames import frame_of_rows
from mallbots.es.duckdb.schema import APPEND_COLUMNS, APPENDED, OFFSET_COLUMNS
from mallbots.es.duckdb.stream_heads import StreamHeadCache
from mallbots.es.errors import ConcurrencyError, DuplicateEventError
from mallbots.es.event_rows import PreparedAppends, StreamAppend, StreamKey, unstorable
from mallbots.es.registry import Registry


class BulkAppending(StreamHeadCache):
    """Part of :class:`~mallbots.es.duckdb.event_store.EventStore`: many streams in one INSERT."""

    database: Database
    registry: Registry
    table: str

    if TYPE_CHECKING:  # from EventRows, in the event store

        def prepare(
            self, appends: Sequence[StreamAppend], offsets: Sequence[int] | None = None
        ) -> PreparedAppends: ...

    def append_many(
        self, appends: Sequence[StreamAppend], positions: Sequence[int] | None = None
    ) -> int:
        """Append to many streams in one columnar INSERT: all of it, or none of it.

        Each stream must be at its expected version; a stream may appear more than once
        if each append takes up where the one before left it. Positions follow the
        order of ``appends``, unless the caller passes ``positions`` (one per event, in
        order, claimed with :meth:`LogBook.claim_positions` in the caller's open
        transaction) to interleave several tables in the order the events happened.
        Returns how many events were written.
        """
        return self.append_prepared(self.prepare(appends), positions)

    def append_prepared(
        self,
        prepared: PreparedAppends,
        positions: Sequence[int] | None = None,
        *,
        first: int | None = None,
    ) -> int:
        """The database half of :meth:`append_many`, for appends made by :meth:`prepare`.

        Positions are claimed here for rows prepared without offsets; ``first`` (claimed
        by the caller in its open transaction) puts each event at ``first`` plus its
        offset; ``positions`` gives them one by one, in order.
        """
        appends, rows = prepared
        if not rows:
            return 0
        database = self.database
        with database.transaction() as cursor:
            new_heads = self._check_heads(cursor, appends)
            if positions is not None:
                if len(positions) != len(rows):
                    raise ValueError(f"{len(positions)} positions for {len(rows)} events")
                rows = [[position, *row[1:]] for row, position in zip(rows, positions, strict=True)]
                first = 0
            elif first is None:
                first = database.log_book.claim_positions(len(rows))
            try:
                self._insert_columns(cursor, rows, first)
            except duckdb.ConstraintException as error:
                for key in new_heads:
                    self._heads.pop(key, None)
                raise self._explain_bulk_refusal(appends, error) from None
            except duckdb.ConversionException:
                problem = unstorable([event for append in appends for event in append.events])
                if problem is None:
                    raise
                raise ValueError(
                    f"cannot store the batch: {problem}; nothing was written"
                ) from None
            for key in new_heads:  # as in append: the table knows them first
                self._heads.pop(key, None)
            database.after_commit(
                lambda: [self._remember_head(k, v) for k, v in new_heads.items()],
                on_rollback=lambda: [self._heads.pop(k, None) for k in new_heads],
            )
        return len(rows)

    def _check_heads(
        self, cursor: duckdb.DuckDBPyConnection, appends: Sequence[StreamAppend]
    ) -> dict[StreamKey, int]:
        """Refuse the batch if any stream is not where its append expects it; new heads.

        As for one append, a cached head that disagrees is checked against the table:
        another store on the same table may have moved the stream.
        """
        cache = self._cached_heads()
        heads: dict[StreamKey, int] = {}  # where each stream stands after its appends
        first_expected: dict[StreamKey, int] = {}  # streams the table must confirm
        for name, stream_id, expected, events, _ in appends:
            key = (name, stream_id)
            head = heads.get(key)
            if head is None:
                cached = cache.get(key)
                if cached != expected and (cached is not None or expected > 0):
                    first_expected[key] = expected
            elif head != expected:
                raise ConcurrencyError(name, stream_id, expected, head)
            heads[key] = expected + len(events)
        stored = self._heads_from_table(cursor, set(first_expected))
        for key, expected in first_expected.items():
            if stored[key] != expected:
                cache.pop(key, None)
                raise ConcurrencyError(key[0], key[1], expected, stored[key])
        return heads

    def _heads_from_table(
        self, cursor: duckdb.DuckDBPyConnection, keys: set[StreamKey]
    ) -> dict[StreamKey, int]:
        """The stored versions of many streams in one query (0 for a stream with none)."""
        if not keys:
            return {}
        names, ids = zip(*sorted(keys), strict=True)
        found = cursor.execute(
            f"SELECT e.stream_name, e.stream_id, max(e.stream_version) FROM {self.table} e "
            "JOIN (SELECT unnest($1::VARCHAR[]) AS n, unnest($2::VARCHAR[]) AS i) k "
            "ON e.stream_id = k.i AND e.stream_name = k.n GROUP BY ALL",
            [list(names), list(ids)],
        ).fetchall()
        heads = dict.fromkeys(keys, 0)
        heads.update({(name, id_): head for name, id_, head in found})
        return heads

    def _explain_bulk_refusal(
        self, appends: Sequence[StreamAppend], error: duckdb.ConstraintException
    ) -> Exception:
        # The failed INSERT aborted the transaction: look from a fresh cursor.
        ids = [event.id for append in appends for event in append.events]
        with self.database.fresh_cursor() as cursor:
            stored = self._heads_from_table(cursor, {(a[0], a[1]) for a in appends})
            taken = cursor.execute(
                f"SELECT event_id::VARCHAR FROM {self.table} "
                "WHERE event_id IN (SELECT unnest($1::UUID[]))",
                [ids],
            ).fetchall()
        for name, stream_id, expected, *_ in appends:
            if expected < stored[(name, stream_id)]:
                return ConcurrencyError(name, stream_id, expected, stored[(name, stream_id)])
        repeated = [event_id for event_id, n in Counter(ids).items() if n > 1]
        duplicates = sorted({row[0] for row in taken} | set(repeated)) or named_in(error, ids)
        if duplicates:
            return DuplicateEventError(duplicates)
        for name, stream_id, expected, *_ in appends:
            version = version_taken_in(error, (name, stream_id))
            if version is not None:
                return ConcurrencyError(name, stream_id, expected, version)
        return error

    def _insert_columns(
        self, cursor: duckdb.DuckDBPyConnection, rows: list[list], first: int
    ) -> None:
        """Insert many rows as one columnar INSERT from a DataFrame, positions from ``first``."""
        appended = frame_of_rows(rows, APPENDED)  # noqa: F841 (DuckDB reads it by name)
        cursor.execute(
            f"INSERT INTO {self.table} ({APPEND_COLUMNS}) SELECT {OFFSET_COLUMNS} FROM appended",
            [first],
        )


def version_taken_in(error: duckdb.Error, key: StreamKey) -> int | None:
    """The version of stream ``key`` that DuckDB's primary-key refusal names, if it names
    one: a version this same transaction wrote before (through another store on the
    table), which no other cursor can see. DuckDB words the key as
    ``duplicate key "<stream_id>, <stream_name>, <version>"``."""
    name, stream_id = key
    found = re.search(
        rf'duplicate key "{re.escape(stream_id)}, {re.escape(name)}, (\d+)"', str(error)
    )
    return int(found.group(1)) if found else None


def named_in(error: duckdb.Error, event_ids: Sequence[str]) -> list[str]:
    """The event ids DuckDB's refusal names: the only word on an id that the same
    transaction wrote before, which no other cursor can see."""
    message = str(error)
    return sorted({event_id for event_id in event_ids if event_id in message})
