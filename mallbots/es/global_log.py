"""The global log, whatever database holds it: windows, batches and counts over a reader.

A backend's log (:class:`mallbots.es.duckdb.log.EventLog`,
:class:`mallbots.es.postgres.log.PostgresLog`) says how to read a range of positions as
columns, one stream, and frames, in its own SQL; everything built on those reads is here,
written once: the union of the event tables, the head and the count, the windows and
batches a projector reads, single events.
"""

from __future__ import annotations

import operator
from abc import abstractmethod
from bisect import bisect_right
from collections.abc import Collection, Iterable, Iterator
from typing import Any, ClassVar

import pandas as pd

from mallbots.es.decoding import POSITION, decode_columns
from mallbots.es.event_rows import StreamKey, checked_stream
from mallbots.es.events import AggregateEvent
from mallbots.es.identifiers import checked_identifier
from mallbots.es.registry import Registry
from mallbots.es.set_based import quoted
from mallbots.es.stream_loading import StreamLoading

QUERY_SPAN = 16_384
"""How many positions :meth:`GlobalLog.windows` reads per statement (rounded to whole
windows): enough that the statement's fixed cost vanishes, few enough to hold."""


class GlobalLog(StreamLoading):
    """Reads the events of several tables (default: all of the database's) as one log."""

    aggregate_id_sql: ClassVar[str]
    """SQL for an event's aggregate: its stream id unless its metadata names another."""
    range_where: ClassVar[str]
    """SQL keeping the positions after the first parameter up to the second."""
    names_where: ClassVar[str]
    """SQL (``AND ...``) keeping the event names of the third parameter, a list."""

    def __init__(
        self, database: Any, registry: Registry, tables: Collection[str] | None = None
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
        select = f"*, {self.aggregate_id_sql} AS aggregate_id"
        return self._union(select, " AND ".join(where) or "true")

    def _refresh_tables(self) -> None:
        """Read anew which tables the log has, where other processes add some (a
        database that alone adds them knows them already)."""
        return None

    def _listed_tables(self) -> list[str]:
        """:attr:`tables`, read anew first where other processes may have added some
        (for the whole-log figures; a window's reads use the tables as last read)."""
        if self._tables is None:
            self._refresh_tables()
        return self.tables

    def head(self) -> int:
        """The highest stored position (0 for an empty log)."""
        if not self._listed_tables():
            return 0
        union = " UNION ALL ".join(f"SELECT max(position) AS p FROM {t}" for t in self.tables)
        sql = f"SELECT coalesce(max(p), 0) FROM ({union}) AS heads"
        (head,) = self.database.execute(sql).fetchone()
        return head

    def count(self) -> int:
        """How many events the log holds."""
        if not self._listed_tables():
            return 0
        union = " UNION ALL ".join(f"SELECT count(*) AS n FROM {t}" for t in self.tables)
        sql = f"SELECT coalesce(sum(n), 0) FROM ({union}) AS counts"
        (count,) = self.database.execute(sql).fetchone()
        return int(count)

    def _range_filter(
        self, after_position: int, up_to: int, names: Collection[str] | None
    ) -> tuple[str, list]:
        """The ``WHERE`` clause and parameters of a range of positions (of ``names``)."""
        where, parameters = self.range_where, [after_position, up_to]
        if names is not None:
            where += self.names_where
            parameters.append(sorted(names))
        return where, parameters

    @abstractmethod
    def _read_columns(
        self, after_position: int, up_to: int, names: Collection[str] | None = None
    ) -> list[list]:
        """The columns of the events with ``after_position < position <= up_to`` (of
        ``names``), in position order, as :func:`~mallbots.es.decoding.decode_columns`
        takes them."""

    def read_range(
        self, after_position: int, up_to: int, names: Collection[str] | None = None
    ) -> list[AggregateEvent]:
        """The events with ``after_position < position <= up_to`` (of ``names``), in order."""
        return decode_columns(self._read_columns(after_position, up_to, names), self.registry)

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

    def events(self, after_position: int = 0, batch_size: int = 1000) -> Iterable[AggregateEvent]:
        """Every event after ``after_position``, one at a time."""
        for batch in self.batches(after_position, batch_size):
            yield from batch

    def _checked_key(self, stream_name: str, stream_id: str) -> StreamKey:
        return checked_stream(stream_name, stream_id)

    # load_stream (StreamLoading): as an event store's, but from every table, archives too.

    def stream(self, stream_name: str, stream_id: str) -> list[AggregateEvent]:
        """One stream's events, from whichever table holds them, in version order."""
        return self.load_stream(stream_name, stream_id)

    @abstractmethod
    def _frame(self, sql: str, parameters: list | None = None) -> pd.DataFrame:
        """The result of one query as a DataFrame."""

    def streams(self) -> pd.DataFrame:
        """Every stream: its name, id and length, in order of first appearance."""
        self._listed_tables()
        return self._frame(
            "SELECT stream_name, stream_id, count(*) AS events, min(position) AS first_position "
            f"FROM ({self.sql()}) AS log GROUP BY stream_name, stream_id ORDER BY first_position"
        )


def checked_count(value: Any, what: str, least: int = 0) -> int:
    """``value`` as an int, if it is a whole number of at least ``least`` (NumPy's too)."""
    try:
        number = operator.index(value)
    except TypeError:
        number = least - 1
    if number < least or isinstance(value, bool):
        raise ValueError(f"{what} must be a whole number of at least {least}, not {value!r}")
    return number
