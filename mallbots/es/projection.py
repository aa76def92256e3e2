"""Projections: read models built from events (the "Q" side of CQRS).

A :class:`Projection` owns some tables in a schema of its own and knows how to apply a
batch of events to them. The :class:`~mallbots.es.projector.Projector` decides when:
inline on every save, catching up from a checkpoint, or rebuilding from scratch. All
three call the same :meth:`Projection.apply`, so they cannot disagree.

Most read models are a table of rows keyed by an id, changed event by event. For those,
:class:`RowProjection` lets each event handler be plain Python on a dict of rows, and
writes a whole batch back with two statements (DuckDB charges per statement, so a
statement per event would cap a catch-up at a few thousand events a second).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, ClassVar

import duckdb
import pandas as pd

from mallbots.es.database import checked_identifier
from mallbots.es.events import AggregateEvent

Row = dict[str, Any]
EventHandler = Callable[[Any, "RowBuffer", AggregateEvent], None]


class Projection(ABC):
    """A named read model fed from the global log."""

    NAME: ClassVar[str]
    """Short name of the read model: ``mall``. Its full name adds the schema."""

    handles: ClassVar[frozenset[str]]
    """The event names it reads; the rest of the log passes it by."""

    def __init__(self, schema: str) -> None:
        self.schema = checked_identifier(schema)

    @property
    def name(self) -> str:
        """Unique name, used for its checkpoint: ``stores.mall`` (a copy elsewhere differs)."""
        return f"{self.schema}.{self.NAME}"

    @property
    @abstractmethod
    def tables(self) -> list[str]:
        """The qualified names of the tables this projection owns."""

    @abstractmethod
    def setup(self, cursor: duckdb.DuckDBPyConnection) -> None:
        """Create its tables if they are missing."""

    def reset(self, cursor: duckdb.DuckDBPyConnection) -> None:
        """Empty its tables, ready for a rebuild."""
        for table in self.tables:
            cursor.execute(f"DELETE FROM {table}")

    @abstractmethod
    def apply(self, cursor: duckdb.DuckDBPyConnection, events: Sequence[AggregateEvent]) -> None:
        """Apply events (only those it handles, in position order) to its tables."""

    def frame(self, cursor: duckdb.DuckDBPyConnection, table: str | None = None) -> pd.DataFrame:
        """One of its tables (the first by default) as a DataFrame, in key order."""
        table = table or self.tables[0]
        return cursor.execute(f"SELECT * FROM {table} ORDER BY ALL").df()


def on(*event_names: str) -> Callable[[EventHandler], EventHandler]:
    """Mark a :class:`RowProjection` method as the handler of these event names."""

    def mark(method: EventHandler) -> EventHandler:
        method.__projection_events__ = event_names  # type: ignore[attr-defined]
        return method

    return mark


class RowBuffer:
    """The rows a batch touches, loaded once, changed in memory, written back once."""

    def __init__(self, key: str, loaded: dict[Any, Row], load_one: Callable[[Any], Row | None]):
        self._key = key
        self._rows: dict[Any, Row | None] = loaded
        self._load_one = load_one
        self.changed: dict[Any, None] = {}  # an ordered set: writes are reproducible

    def get(self, key: Any) -> Row | None:
        """The row with this key as it stands in the batch, or None."""
        if key not in self._rows:  # not preloaded: fetch it alone (correct, slower)
            self._rows[key] = self._load_one(key)
        return self._rows[key]

    def __contains__(self, key: Any) -> bool:
        return self.get(key) is not None

    def put(self, row: Row) -> None:
        """Insert or replace a whole row."""
        key = row[self._key]
        self._rows[key] = dict(row)
        self.changed[key] = None

    def update(self, key: Any, **changes: Any) -> Row | None:
        """Change some columns of an existing row; a missing row is left missing."""
        row = self.get(key)
        if row is None:
            return None
        row.update(changes)
        self.changed[key] = None
        return row

    def delete(self, key: Any) -> None:
        """Remove the row (if it exists)."""
        self._rows[key] = None
        self.changed[key] = None

    def written(self) -> Iterator[tuple[Any, Row | None]]:
        """Each changed key with its final row (None if deleted)."""
        for key in self.changed:
            yield key, self._rows[key]


class RowProjection(Projection):
    """A read model table keyed by one column, changed by per-event Python handlers.

    Subclasses set ``NAME``, ``table_name``, ``columns`` (column -> SQL type, the key
    first) and mark handler methods with :func:`on`. Override :meth:`keys_of` when an
    event touches rows other than its aggregate's.
    """

    table_name: ClassVar[str]
    columns: ClassVar[dict[str, str]]
    key: ClassVar[str] = "id"
    _handlers: ClassVar[dict[str, EventHandler]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        handlers: dict[str, EventHandler] = {}
        for klass in reversed(cls.__mro__):
            for attribute in vars(klass).values():
                for event_name in getattr(attribute, "__projection_events__", ()):
                    handlers[event_name] = attribute
        cls._handlers = handlers
        if handlers and "handles" not in vars(cls):
            cls.handles = frozenset(handlers)

    @property
    def table(self) -> str:
        return f"{self.schema}.{checked_identifier(self.table_name)}"

    @property
    def tables(self) -> list[str]:
        return [self.table]

    def setup(self, cursor: duckdb.DuckDBPyConnection) -> None:
        column_definitions = ", ".join(
            f"{checked_identifier(name)} {kind}" for name, kind in self.columns.items()
        )
        key = checked_identifier(self.key)
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} ({column_definitions}, PRIMARY KEY ({key}))"
        )

    def keys_of(self, event: AggregateEvent) -> Iterable[Any]:
        """The keys of the rows an event may touch (preloaded before handlers run)."""
        return (event.aggregate_id,)

    def apply(self, cursor: duckdb.DuckDBPyConnection, events: Sequence[AggregateEvent]) -> None:
        handled = [event for event in events if event.name in self._handlers]
        if not handled:
            return
        keys = {key for event in handled for key in self.keys_of(event)}
        rows = RowBuffer(self.key, self._load(cursor, keys), lambda k: self._load_one(cursor, k))
        for event in handled:
            self._handlers[event.name](self, rows, event)
        self._write(cursor, rows)

    # --- reading and writing rows -----------------------------------------------------------

    def _load(self, cursor: duckdb.DuckDBPyConnection, keys: set[Any]) -> dict[Any, Row]:
        loaded: dict[Any, Row] = dict.fromkeys(keys)  # type: ignore[arg-type]
        if not keys:
            return loaded
        names = list(self.columns)
        result = cursor.execute(
            f"SELECT {', '.join(names)} FROM {self.table} WHERE {self.key} IN (SELECT unnest($1))",
            [list(keys)],
        ).fetchall()
        for values in result:
            row = dict(zip(names, values, strict=True))
            loaded[row[self.key]] = row
        return loaded

    def _load_one(self, cursor: duckdb.DuckDBPyConnection, key: Any) -> Row | None:
        return self._load(cursor, {key}).get(key)

    def _write(self, cursor: duckdb.DuckDBPyConnection, rows: RowBuffer) -> None:
        changed = list(rows.written())
        if not changed:
            return
        cursor.execute(
            f"DELETE FROM {self.table} WHERE {self.key} IN (SELECT unnest($1))",
            [[key for key, _ in changed]],
        )
        names = list(self.columns)
        fresh = [[row[name] for name in names] for _, row in changed if row is not None]
        if fresh:
            cursor.complete()
            appender = cursor.appender(self.table, columns=names)
            appender.append_rows(fresh)
            appender.flush()
