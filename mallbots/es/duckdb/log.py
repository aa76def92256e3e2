"""The global log: every event of every event table, in position order.

Positions are handed out under the database's write lock as events commit, so the log
is read in commit order and a reader never sees a lower position appear later. Batches
are read by position *range* (``position > a AND position <= b``), so DuckDB skips the
rest of the table by its zone maps and each batch costs the same however long the log.

A statement costs DuckDB a fixed fraction of a millisecond, so :meth:`EventLog.batches`
asks for many batches' worth of positions at once (:data:`QUERY_SPAN`), by column,
and cuts them into the caller's batches here, decoding each only when it is reached.
"""

from __future__ import annotations

import operator
from bisect import bisect_right
from collections.abc import Collection, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

import pandas as pd

from mallbots.es.decoding import (
    AGGREGATE_ID_SQL,
    EVENT_COLUMNS,
    POSITION,
    decode_columns,
    decode_stream,
    fetch_columns,
)
from mallbots.es.duckdb.database import Database, checked_identifier
from mallbots.es.events import AggregateEvent
from mallbots.es.registry import Registry
from mallbots.es.set_based import quoted

QUERY_SPAN = 16_384
"""How many positions :meth:`EventLog.batches` reads per statement (rounded to whole
batches): enough that the statement's fixed cost vanishes, few enough to hold."""

STREAM_FRAME_COLUMNS = (
    "position, stream_version, event_name, event_data, occurred_at, event_id::VARCHAR AS event_id"
)
FRAME_COLUMNS = (
    "position, stream_name, stream_id, stream_version, event_name, event_data, occurred_at, "
    "event_id::VARCHAR AS event_id"
)


class EventLog:
    """Reads the events of several tables (default: all of the database's) as one log."""

    def __init__(
        self, database: Database, registry: Registry, tables: Sequence[str] | None = None
    ) -> None:
        self.database = database
        self.registry = registry
        self._tables = None if tables is None else [checked_identifier(t) for t in tables]

    @property
    def tables(self) -> list[str]:
        """The event tables read, in registration order."""
        return list(self.database.log_tables) if self._tables is None else list(self._tables)

    def _union(self, select: str, where: str) -> str:
        tables = self.tables
        if not tables:
            raise LookupError("the log has no event tables yet")
        return " UNION ALL ".join(f"SELECT {select} FROM {t} WHERE {where}" for t in tables)

    def sql(self) -> str:
        """SQL for the whole log as one relation, to use as ``FROM (...)`` in your queries."""
        return self._union("*", "true")

    def relation(self, up_to: int | None = None, names: Collection[str] | None = None) -> str:
        """SQL for the stored events up to position ``up_to`` (of ``names``), unordered.

        Its columns are an event table's plus ``aggregate_id``: the aggregate an event
        belongs to, which is its stream id unless the stream continues another (see
        :mod:`mallbots.es.books`). Set-based rebuilds read the log through it.
        """
        where = [] if up_to is None else [f"position <= {int(up_to)}"]
        if names is not None:
            where.append(f"event_name IN ({quoted(*names) or 'NULL'})")
        select = f"*, {AGGREGATE_ID_SQL} AS aggregate_id"
        return self._union(select, " AND ".join(where) or "true")

    def head(self) -> int:
        """The highest stored position (0 for an empty log)."""
        if not self.tables:
            return 0
        sql = " UNION ALL ".join(f"SELECT max(position) AS p FROM {t}" for t in self.tables)
        (head,) = self.database.execute(f"SELECT coalesce(max(p), 0) FROM ({sql})").fetchone()
        return head

    def count(self) -> int:
        """How many events the log holds."""
        if not self.tables:
            return 0
        sql = " UNION ALL ".join(f"SELECT count(*) AS n FROM {t}" for t in self.tables)
        (count,) = self.database.execute(f"SELECT coalesce(sum(n), 0) FROM ({sql})").fetchone()
        return int(count)

    def read_range(
        self, after_position: int, up_to: int, names: Collection[str] | None = None
    ) -> list[AggregateEvent]:
        """The events with ``after_position < position <= up_to`` (of ``names``), in order."""
        return decode_columns(self._read_columns(after_position, up_to, names), self.registry)

    def _read_columns(
        self, after_position: int, up_to: int, names: Collection[str] | None = None
    ) -> list[list]:
        where = "position > $1 AND position <= $2"
        parameters: list = [after_position, up_to]
        if names is not None:
            where += " AND event_name IN (SELECT unnest($3::VARCHAR[]))"
            parameters.append(sorted(names))
        sql = self.database.parsed(self._union(EVENT_COLUMNS, where))
        columns = fetch_columns(self.database.execute(sql, parameters))
        positions = columns[POSITION]
        # A scan returns rows in insertion order, which is position order unless rows
        # were written by hand or come from several tables: sort only then.
        if not all(map(operator.lt, positions, islice(positions, 1, None))):
            order = sorted(range(len(positions)), key=positions.__getitem__)
            columns = [[column[i] for i in order] for column in columns]
        return columns

    def windows(
        self,
        after_position: int = 0,
        window: int = 1000,
        up_to: int | None = None,
        names: Collection[str] | None = None,
    ) -> Iterator[tuple[int, list[AggregateEvent]]]:
        """``(upper, events)`` for each window of positions up to the head (or ``up_to``).

        Window by window, the positions ``(p, p + window]``, each yielded empty or not so
        a reader can record how far it got. Many windows are read per statement
        (:data:`QUERY_SPAN` positions) and decoded one at a time. The head is read when
        iteration starts; later appends wait for the next read.
        """
        if window < 1:
            raise ValueError("the window must be at least 1 position wide")
        end = self.head() if up_to is None else up_to
        span = max(1, QUERY_SPAN // window) * window
        position = after_position
        while position < end:
            query_end = min(position + span, end)
            columns = self._read_columns(position, query_end, names)
            positions, start = columns[POSITION], 0
            while position < query_end:
                upper = min(position + window, query_end)
                stop = bisect_right(positions, upper, start)
                batch = [column[start:stop] for column in columns]
                yield upper, decode_columns(batch, self.registry) if stop > start else []
                position, start = upper, stop

    def batches(
        self,
        after_position: int = 0,
        batch_size: int = 1000,
        up_to: int | None = None,
        names: Collection[str] | None = None,
    ) -> Iterator[list[AggregateEvent]]:
        """Non-empty batches of events after ``after_position`` up to the head (or ``up_to``)."""
        for _, batch in self.windows(after_position, batch_size, up_to, names):
            if batch:
                yield batch

    def stream(self, stream_name: str, stream_id: str) -> list[AggregateEvent]:
        """One stream's events, from whichever table holds them, in version order."""
        return self.load_stream(stream_name, stream_id)

    def load_stream(
        self,
        stream_name: str,
        stream_id: str,
        after_version: int = 0,
        to_version: int | None = None,
    ) -> list[AggregateEvent]:
        """Like :meth:`EventStore.load_stream`, but also from archived events."""
        # One equality filter, so DuckDB uses each table's stream_id index.
        sql = self.database.parsed(self._union(EVENT_COLUMNS + ", stream_name", "stream_id = $1"))
        result = self.database.execute(sql, [stream_id])
        return decode_stream(
            result, self.registry, stream_name, stream_id, after_version, to_version
        )

    def stream_frame(self, stream_name: str, stream_id: str) -> pd.DataFrame:
        """One stream as a DataFrame, one row per event, from whichever table holds it."""
        sql = self._union(STREAM_FRAME_COLUMNS, "stream_id = $1 AND stream_name = $2")
        return self.database.execute(
            f"{sql} ORDER BY stream_version", [stream_id, stream_name]
        ).df()

    def streams(self) -> pd.DataFrame:
        """Every stream: its name, id and length, in order of first appearance."""
        return self.database.execute(
            f"""
            SELECT stream_name, stream_id, count(*) AS events, min(position) AS first_position
            FROM ({self.sql()}) GROUP BY stream_name, stream_id ORDER BY first_position
            """
        ).df()

    def events(self, after_position: int = 0, batch_size: int = 1000) -> Iterable[AggregateEvent]:
        """Every event after ``after_position``, one at a time."""
        for batch in self.batches(after_position, batch_size):
            yield from batch

    def frame(self, after_position: int = 0, limit: int | None = None) -> pd.DataFrame:
        """The log as a DataFrame (payloads as JSON text), in position order."""
        after_position = checked_count(after_position, "after_position")
        if limit is not None:
            limit = checked_count(limit, "limit")
        if not self.tables:  # no event store yet: empty, as count() says
            return pd.DataFrame(columns=[c.split(" AS ")[-1] for c in FRAME_COLUMNS.split(", ")])
        sql = self._union(FRAME_COLUMNS, "position > $1") + " ORDER BY position"
        parameters: list = [after_position]
        if limit is not None:
            sql += " LIMIT $2"
            parameters.append(limit)
        return self.database.execute(sql, parameters).df()


def checked_count(value: Any, what: str, least: int = 0) -> int:
    """``value`` as an int, if it is a whole number of at least ``least`` (NumPy's too)."""
    try:
        number = operator.index(value)
    except TypeError:
        number = least - 1
    if number < least or isinstance(value, bool):
        raise ValueError(f"{what} must be a whole number of at least {least}, not {value!r}")
    return number
