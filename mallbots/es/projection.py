"""Projections: read models built from events (the "Q" side of CQRS).

A :class:`Projection` owns some tables in a schema of its own and knows how to apply a
batch of events to them. The :class:`~mallbots.es.projector.Projector` decides when:
inline on every save, catching up from a checkpoint, or rebuilding from scratch. All
three go through the same :meth:`Projection.writer`, so they cannot disagree.

Most read models are a table of rows keyed by an id, changed event by event. For those,
:class:`RowProjection` lets each event handler be plain Python on a dict of rows, and
writes the rows back with two statements per commit (DuckDB charges per statement, so a
statement per event would cap a catch-up at a few thousand events a second).

A projection may also know how to build its tables from the whole log in one SQL pass
(:meth:`Projection.rebuild_set_based`): DuckDB then folds every stream at once instead
of calling a Python handler per event (about 15 times faster on a million-event log
here, 3 to 4 times on a small mall, see ``benchmarks/rebuild.py``). It must produce
exactly the rows the handlers produce; the tests replay random logs both ways to
prove it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from operator import attrgetter, itemgetter
from typing import Any, ClassVar

import duckdb
import pandas as pd

from mallbots.es.duckdb.frames import result_frame
from mallbots.es.events import AggregateEvent
from mallbots.es.identifiers import checked_identifier

Row = dict[str, Any]
_aggregate_id = attrgetter("aggregate_id")
CACHED_ROWS = 200_000
"""A writer forgets the rows it has read once it holds more than this many."""
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
        """Empty its tables, ready for a rebuild.

        They are dropped and made again: DuckDB commits that in milliseconds, where
        deleting every row of a keyed table costs about a second per 50,000 rows.
        """
        for table in self.tables:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        self.setup(cursor)

    @abstractmethod
    def apply(self, cursor: duckdb.DuckDBPyConnection, events: Sequence[AggregateEvent]) -> None:
        """Apply events (only those it handles, in position order) to its tables."""

    def writer(self, cursor: duckdb.DuckDBPyConnection) -> ProjectionWriter:
        """A writer for many batches in one transaction (see :class:`ProjectionWriter`)."""
        return ProjectionWriter(self, cursor)

    # --- set-based rebuild ----------------------------------------------------------------

    @property
    def set_based(self) -> bool:
        """Whether :meth:`rebuild_set_based` is available."""
        return type(self).rebuild_set_based is not Projection.rebuild_set_based

    def rebuild_set_based(self, cursor: duckdb.DuckDBPyConnection, events: str) -> None:
        """Fill the emptied tables from the log in set-based SQL.

        ``events`` is SQL for the relation of stored events this projection handles, up
        to the checkpoint the rebuild moves to: the columns of an event table plus
        ``aggregate_id`` (see :meth:`~mallbots.es.duckdb.log.EventLog.relation`). Payloads are
        the stored JSON: an SQL rebuild must read every schema version the log holds.
        """
        raise NotImplementedError(f"{self.name} has no set-based rebuild")

    def frame(self, cursor: duckdb.DuckDBPyConnection, table: str | None = None) -> pd.DataFrame:
        """One of its tables (the first by default) as a DataFrame, in key order."""
        table = table or self.tables[0]
        return result_frame(cursor.execute(f"SELECT * FROM {table} ORDER BY ALL"))


class ProjectionWriter:
    """Applies batches of events to a projection inside the caller's transaction.

    This one applies each batch at once. :class:`RowProjection`'s keeps the rows it
    touched in memory across batches and writes them on :meth:`flush`, so a catch-up
    writes each row once per commit instead of once per batch.
    """

    def __init__(self, projection: Projection, cursor: duckdb.DuckDBPyConnection) -> None:
        self.projection = projection
        self.cursor = cursor

    def apply(self, events: Sequence[AggregateEvent]) -> None:
        """Take a batch of events (in position order) into account."""
        self.projection.apply(self.cursor, events)

    @property
    def pending(self) -> int:
        """How many rows wait in memory to be written."""
        return 0

    def flush(self) -> None:
        """Write whatever is still held in memory."""


def on(*event_names: str) -> Callable[[EventHandler], EventHandler]:
    """Mark a :class:`RowProjection` method as the handler of these event names."""

    def mark(method: EventHandler) -> EventHandler:
        method.__projection_events__ = event_names  # type: ignore[attr-defined]
        return method

    return mark


class RowBuffer:
    """The rows a batch touches, loaded once, changed in memory, written back once."""

    def __init__(
        self,
        key_of: Callable[[Row], Any],
        loaded: dict[Any, Row | None],
        load_one: Callable[[Any], Row | None],
    ) -> None:
        self._key_of = key_of
        self._rows = loaded
        self._load_one = load_one
        self.changed: dict[Any, None] = {}  # an ordered set: writes are reproducible

    def get(self, key: Any) -> Row | None:
        """The row with this key as it stands in the batch, or None."""
        try:
            return self._rows[key]
        except KeyError:  # not preloaded: fetch it alone (correct, slower)
            row = self._rows[key] = self._load_one(key)
            return row

    def __contains__(self, key: Any) -> bool:
        return self.get(key) is not None

    def __len__(self) -> int:
        """How many rows (and known absences) it holds."""
        return len(self._rows)

    def put(self, row: Row) -> None:
        """Insert or replace a whole row."""
        key = self._key_of(row)
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

    def edit(self, key: Any) -> Row | None:
        """The row with this key, to change in place (it is written back), or None."""
        try:
            row = self._rows[key]
        except KeyError:
            row = self.get(key)
        if row is not None:
            self.changed[key] = None
        return row

    def delete(self, key: Any) -> None:
        """Remove the row (if it exists)."""
        self._rows[key] = None
        self.changed[key] = None

    def preload(self, keys: Iterable[Any], load: Callable[[set[Any]], dict[Any, Row]]) -> None:
        """Load, in one query, the rows of ``keys`` not held yet."""
        missing = set(keys).difference(self._rows)
        if missing:
            self._rows.update(load(missing))

    def written(self) -> Iterator[tuple[Any, Row | None]]:
        """Each changed key with its final row (None if deleted)."""
        for key in self.changed:
            yield key, self._rows[key]


ROWS_WRITTEN_IN_PLACE = 2
"""A write of this many rows or fewer (an inline command's) goes row by row, each found
through the key's index: on a file, an UPDATE and its commit took 1.0 ms where a
DELETE, an appender flush and the commit took 2.2 ms. More rows go in one DELETE and
one flush, whatever their number. A composite key's rows are found by rowid, looked up
through ``find_by`` (DuckDB finds a row by an index only for an equality on one
column); without ``find_by`` they always take the batch path."""


class RowProjection(Projection):
    """A read model table keyed by one column (or several), changed by per-event handlers.

    Subclasses set ``NAME``, ``table_name``, ``columns`` (column -> SQL type, the key
    first) and mark handler methods with :func:`on`. ``key`` names the key column, or
    a tuple of columns for a composite key (rows are then keyed by tuples). Override
    :meth:`keys_of` when an event touches rows other than its aggregate's, and
    :meth:`rows_sql` to offer a set-based rebuild.
    """

    table_name: ClassVar[str]
    columns: ClassVar[dict[str, str]]
    key: ClassVar[str | tuple[str, ...]] = "id"
    find_by: ClassVar[str | None] = None
    """For a composite key: one of its columns, given an index of its own at setup, that
    narrows a key to a row or two. Rows are then read through it, and written by the
    rowids it finds, since DuckDB finds rows by an index only for an equality on one
    column: by the composite key alone, every read and write of a command would scan
    the whole table."""
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

    @property
    def key_columns(self) -> tuple[str, ...]:
        """The key column(s), in order."""
        return (self.key,) if isinstance(self.key, str) else tuple(self.key)

    def setup(self, cursor: duckdb.DuckDBPyConnection) -> None:
        column_definitions = ", ".join(
            f"{checked_identifier(name)} {kind}" for name, kind in self.columns.items()
        )
        key = ", ".join(checked_identifier(column) for column in self.key_columns)
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} ({column_definitions}, PRIMARY KEY ({key}))"
        )
        if self.find_by is not None:
            if isinstance(self.key, str) or self.find_by not in self.key_columns:
                raise ValueError(
                    f"find_by names a column of a composite key, not {self.find_by!r} of ({key})"
                )
            name = f"{checked_identifier(self.table_name)}_by_{checked_identifier(self.find_by)}"
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {self.table} ({self.find_by})")

    def keys_of(self, event: AggregateEvent) -> Iterable[Any]:
        """The keys of the rows an event may touch (preloaded before handlers run)."""
        return (event.aggregate_id,)

    def key_of(self, row: Row) -> Any:
        """The key of a row: a value, or a tuple for a composite key."""
        if isinstance(self.key, str):
            return row[self.key]
        return tuple(row[column] for column in self.key)

    def apply(self, cursor: duckdb.DuckDBPyConnection, events: Sequence[AggregateEvent]) -> None:
        writer = self.writer(cursor)
        writer.apply(events)
        writer.flush()

    def writer(self, cursor: duckdb.DuckDBPyConnection) -> RowWriter:
        return RowWriter(self, cursor)

    # --- set-based rebuild ----------------------------------------------------------------

    @property
    def set_based(self) -> bool:
        return type(self).rows_sql is not RowProjection.rows_sql

    def rows_sql(self) -> str:
        """A query giving the table's rows (all its columns, in order) from ``events``.

        ``events`` is a relation of the stored events the projection handles (see
        :meth:`Projection.rebuild_set_based`). Override it to offer a set-based rebuild.
        """
        raise NotImplementedError(f"{self.name} has no set-based rebuild")

    def rebuild_set_based(self, cursor: duckdb.DuckDBPyConnection, events: str) -> None:
        names = ", ".join(self.columns)
        cursor.execute(
            f"INSERT INTO {self.table} ({names}) "
            f"WITH events AS NOT MATERIALIZED ({events}) SELECT {names} FROM ({self.rows_sql()})"
        )

    # --- reading and writing rows -----------------------------------------------------------

    def _key_filter(self, keys: Iterable[Any]) -> tuple[str, list[list[Any]]]:
        """``(columns) IN (...)`` for these keys, with one list parameter per key column."""
        columns = self.key_columns
        if len(columns) == 1:
            return f"{columns[0]} IN (SELECT unnest($1))", [list(keys)]
        keys = list(keys)
        lists = [[key[i] for key in keys] for i in range(len(columns))]
        unnests = ", ".join(f"unnest(${i})" for i in range(1, len(columns) + 1))
        return f"({', '.join(columns)}) IN (SELECT {unnests})", lists

    def _load(
        self,
        cursor: duckdb.DuckDBPyConnection,
        keys: set[Any],
        rowids: dict[Any, int | None] | None = None,
    ) -> dict[Any, Row | None]:
        """The stored rows of ``keys`` (None if absent). Through ``find_by``, each key's
        rowid (or None) goes into ``rowids`` too, so a write can skip looking it up."""
        loaded: dict[Any, Row | None] = dict.fromkeys(keys)
        if not keys:
            return loaded
        names = list(self.columns)
        if self.find_by is None:
            where, parameters = self._key_filter(keys)
            rowids = None
        else:
            where, parameters = self._found_by(keys)
            if rowids is not None:
                rowids.update(loaded)
        selected = ", ".join([*names, "rowid"])  # the rowid last
        result = cursor.execute(
            f"SELECT {selected} FROM {self.table} WHERE {where}", parameters
        ).fetchall()
        key_of = self.key_of
        for values in result:
            row = dict(zip(names, values))  # noqa: B905 (the rowid is left out)
            key = key_of(row)
            if key in loaded:  # through find_by, rows of other keys come along
                loaded[key] = row
                if rowids is not None:
                    rowids[key] = values[-1]
        return loaded

    def _found_by(self, keys: Iterable[Any]) -> tuple[str, list[list[Any]]]:
        """``find_by IN (...)``: the rows of these keys, and any sharing their value."""
        at = self.key_columns.index(self.find_by)
        return f"{self.find_by} IN (SELECT unnest($1))", [sorted({key[at] for key in keys})]

    def _rowids_of(
        self,
        cursor: duckdb.DuckDBPyConnection,
        keys: list[Any],
        loaded: Mapping[Any, int | None],
    ) -> dict[Any, int] | None:
        """The rowids of the stored rows of ``keys`` (None without ``find_by``): those a
        load found, and the rest looked up by loading them again."""
        if not self.find_by:
            return None
        found = dict(loaded)
        unknown = {key for key in keys if key not in found}
        if unknown:
            self._load(cursor, unknown, found)
        return {key: found[key] for key in keys if found.get(key) is not None}

    def _write(
        self,
        cursor: duckdb.DuckDBPyConnection,
        rows: RowBuffer,
        loaded_rowids: Mapping[Any, int | None] | None = None,
    ) -> None:
        """Write the changed rows back. ``loaded_rowids`` holds the rowids (None: no row)
        that loads through ``find_by`` found since the table was last written."""
        changed = list(rows.written())
        if not changed:
            return
        rowids = self._rowids_of(cursor, [key for key, _ in changed], loaded_rowids or {})
        if len(changed) <= ROWS_WRITTEN_IN_PLACE and (isinstance(self.key, str) or self.find_by):
            for key, row in changed:
                self._write_in_place(cursor, key, row, rowids)
            return
        if rowids:
            cursor.execute(
                f"DELETE FROM {self.table} WHERE rowid IN (SELECT unnest($1))",
                [list(rowids.values())],
            )
        elif rowids is None:
            where, parameters = self._key_filter(key for key, _ in changed)
            cursor.execute(f"DELETE FROM {self.table} WHERE {where}", parameters)
        names = list(self.columns)
        values = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
        fresh = [values(row) for _, row in changed if row is not None]
        if fresh:
            cursor.complete()
            appender = cursor.appender(self.table, columns=names)
            appender.append_rows(fresh)
            appender.flush()

    def _write_in_place(
        self,
        cursor: duckdb.DuckDBPyConnection,
        key: Any,
        row: Row | None,
        rowids: dict[Any, int] | None,
    ) -> None:
        """Write one row through an index: the key's own, or (given ``rowids``, found
        through ``find_by``) its rowid. An absent row is inserted, a row of None deleted."""
        statements = self._in_place
        if rowids is None:
            where = key
        elif (where := rowids.get(key)) is None:
            if row is not None:
                cursor.execute(statements["insert"], [row[column] for column in self.columns])
            return
        if row is None:
            cursor.execute(statements["delete"], [where])
            return
        values = [row[column] for column in self.columns if column not in self.key_columns]
        (updated,) = cursor.execute(statements["update"], [where, *values]).fetchone()
        if not updated:
            cursor.execute(statements["insert"], [row[column] for column in self.columns])

    @cached_property
    def _in_place(self) -> dict[str, duckdb.Statement]:
        """The statements of :meth:`_write_in_place`, parsed once."""
        where = "rowid = $1" if self.find_by else f"{self.key} = $1"
        others = [column for column in self.columns if column not in self.key_columns]
        changes = ", ".join(f"{column} = ${n}" for n, column in enumerate(others, 2))
        holes = ", ".join(f"${n}" for n in range(1, len(self.columns) + 1))
        sql = {
            "delete": f"DELETE FROM {self.table} WHERE {where}",
            # a table of only its key has nothing to update: count the row, inserted if absent
            "update": f"UPDATE {self.table} SET {changes} WHERE {where}"
            if others
            else f"SELECT count(*) FROM {self.table} WHERE {where}",
            "insert": f"INSERT INTO {self.table} ({', '.join(self.columns)}) VALUES ({holes})",
        }
        return {name: duckdb.extract_statements(text)[0] for name, text in sql.items()}


class RowWriter(ProjectionWriter):
    """Runs a :class:`RowProjection`'s handlers on rows held in memory until flushed."""

    projection: RowProjection

    def __init__(self, projection: RowProjection, cursor: duckdb.DuckDBPyConnection) -> None:
        super().__init__(projection, cursor)
        self.rows = RowBuffer(projection.key_of, {}, self._load_one)
        self._rowids: dict[Any, int | None] = {}  # found by loads since the last flush

    def _load(self, keys: set[Any]) -> dict[Any, Row | None]:
        return self.projection._load(self.cursor, keys, self._rowids)

    def _load_one(self, key: Any) -> Row | None:
        return self._load({key})[key]

    def apply(self, events: Sequence[AggregateEvent]) -> None:
        projection = self.projection
        handlers = projection._handlers
        handled = [event for event in events if event.name in handlers]
        if not handled:
            return
        if type(projection).keys_of is RowProjection.keys_of:  # the common case, quicker
            keys: Iterable[Any] = set(map(_aggregate_id, handled))
        else:
            keys = {key for event in handled for key in projection.keys_of(event)}
        self.rows.preload(keys, self._load)
        rows = self.rows
        for event in handled:
            handlers[event.name](projection, rows, event)

    @property
    def pending(self) -> int:
        return len(self.rows.changed)

    def flush(self) -> None:
        self.projection._write(self.cursor, self.rows, self._rowids)
        self.rows.changed.clear()
        self._rowids.clear()  # the write may have moved rows
        if len(self.rows) > CACHED_ROWS:  # keep memory bounded on a long catch-up
            self.rows = RowBuffer(self.projection.key_of, {}, self._load_one)
