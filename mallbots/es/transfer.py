"""Copy tables whole from one database into another, in columns, in one transaction.

How a shop's write side moves between a DuckDB file and a PostgreSQL server (and from
one DuckDB file into another): each table is written out by the source as CSV (DuckDB's
``COPY ... TO``, PostgreSQL's ``COPY ... TO STDOUT``) and read in by the target
(``read_csv``, ``COPY ... FROM STDIN``), so no row passes through Python (the files,
one table at a time, go to the system's temporary folder). Every value comes over as it
was stored: positions, event ids, payloads, metadata and times.

A table is copied as one of three kinds:

- **events**: an event table of the global log (archives too), made by the target's own
  event-table DDL; once copied, the target's log continues after the copied one;
- **snapshots**: a snapshot table, made by the target's own snapshot DDL;
- **continuations**: closed books' pointers (:mod:`mallbots.es.books`), made by the
  target's own DDL where it has one (PostgreSQL's), else as a plain table;
- **plain**: any other table (the plain modules' tables), made with the
  source's declaration: its columns, their types and its primary key. The types a shop
  declares (``VARCHAR``, ``BOOLEAN``, ``INTEGER``, ``TIMESTAMPTZ``, ``DECIMAL(38, 2)``...)
  are spelled alike in DuckDB and PostgreSQL; a table with any other type is refused.

A target table that exists must have the source's columns, types and key, and be
empty; otherwise nothing is copied, and the refusal names the tables. The backend
parts are ``DuckDBSide`` in :mod:`mallbots.es.duckdb.transfer` and ``PostgresSide`` in
:mod:`mallbots.es.postgres.transfer`.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from mallbots.es.errors import EventSourcingError
from mallbots.es.identifiers import checked_identifier

Kind = Literal["events", "snapshots", "continuations", "plain"]
Progress = Callable[[str, int], None]
"""Called after each table is copied, with its name and how many rows it holds."""

SHARED_TYPES = re.compile(
    r"^(VARCHAR|BOOLEAN|SMALLINT|INTEGER|BIGINT|DATE|UUID|TIMESTAMP"
    r"|TIMESTAMP WITH TIME ZONE|DECIMAL\(\d+,\d+\))$"
)
"""Column types (as DuckDB names them) that mean the same, spelled the same, on both."""


class TransferError(EventSourcingError):
    """A copy refused: the target already holds data, or a table does not fit."""


@dataclass(frozen=True)
class Shape:
    """A table's columns (name, type as DuckDB spells it) and primary key."""

    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...] = ()
    not_null: frozenset[str] = field(default=frozenset(), compare=False)

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]

    def require_shared_types(self, table: str) -> None:
        """Refuse a table with a column type that DuckDB and PostgreSQL do not share (so
        every type put into SQL text is one of :data:`SHARED_TYPES`)."""
        odd = [f"{name} {kind}" for name, kind in self.columns if not SHARED_TYPES.match(kind)]
        if odd:
            raise TransferError(
                f"cannot copy {table}: its columns {', '.join(odd)} have types that DuckDB "
                "and PostgreSQL do not share; nothing was copied"
            )

    def create_sql(self, table: str) -> str:
        """``CREATE TABLE IF NOT EXISTS`` with these columns and key: valid on both backends."""
        self.require_shared_types(table)
        columns = [
            f"{column_list([name])} {kind}{' NOT NULL' if name in self.not_null else ''}"
            for name, kind in self.columns
        ]
        key = [f"PRIMARY KEY ({column_list(self.key)})"] if self.key else []
        definitions = ", ".join(columns + key)
        return f"CREATE TABLE IF NOT EXISTS {table} ({definitions})"

    def difference(self, other: Shape) -> str:
        """How ``other`` differs from this shape, in words ('' if it does not)."""
        if self.columns != other.columns:
            return (
                f"it has columns ({_columns(other)}), the source ({_columns(self)})"
                if other.columns
                else "it is missing"
            )
        if self.key != other.key:
            theirs, ours = ", ".join(other.key), ", ".join(self.key)
            return f"its primary key is ({theirs}), the source's ({ours})"
        return ""


def _columns(shape: Shape) -> str:
    return ", ".join(f"{name} {kind}" for name, kind in shape.columns)


@dataclass(frozen=True)
class Plan:
    """Which tables to copy, by kind, in order (events first)."""

    events: tuple[str, ...]
    snapshots: tuple[str, ...] = ()
    continuations: tuple[str, ...] = ()
    plain: tuple[str, ...] = ()

    def tables(self) -> list[tuple[str, Kind]]:
        kinds: list[tuple[str, Kind]] = [(t, "events") for t in self.events]
        kinds += [(t, "snapshots") for t in self.snapshots]
        kinds += [(t, "continuations") for t in self.continuations]
        kinds += [(t, "plain") for t in self.plain]
        return [(checked_identifier(table), kind) for table, kind in kinds]


class Side(Protocol):
    """One database in a copy: what the source and the target each must do."""

    def errors(self) -> AbstractContextManager[None]:
        """Around the copy: this backend's errors turned into ones that say what to do."""

    def shapes(self, tables: Sequence[str]) -> dict[str, Shape]:
        """The shape of each of ``tables`` that exists (in the open transaction, if any)."""

    def reading(self) -> AbstractContextManager[Any]:
        """A transaction that sees one consistent state of the source."""

    def transaction(self) -> AbstractContextManager[Any]:
        """The target's one transaction (nested ones join it)."""

    def create(self, cursor: Any, table: str, kind: Kind, shape: Shape) -> None:
        """Create ``table`` on the target if it is missing."""

    def export(self, table: str, columns: Sequence[str], order: Sequence[str], path: Path) -> int:
        """Write the source table's rows to a CSV file; how many."""

    def load(self, cursor: Any, table: str, shape: Shape, path: Path) -> int:
        """Append a CSV file's rows to the target table; how many."""

    def continue_log(self, cursor: Any, events: Sequence[str]) -> None:
        """Move the target's position counter past the copied events."""


@dataclass
class Copied:
    """What a copy moved: rows per table, and how long it took."""

    rows: dict[str, int]
    seconds: float

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def copy_tables(source: Side, target: Side, plan: Plan, progress: Progress | None = None) -> Copied:
    """Copy the plan's tables from ``source`` into ``target``, in one target transaction.

    Refused (raising :class:`TransferError`, the target unchanged) if a table is missing
    from the source, does not fit an existing target table, or already holds rows there.
    """
    started = time.perf_counter()
    tables = plan.tables()
    names = [table for table, _ in tables]
    rows: dict[str, int] = {}
    with (
        source.errors(),
        target.errors(),
        tempfile.TemporaryDirectory(prefix="mallbots-copy-") as folder,
        source.reading(),
        target.transaction() as cursor,
    ):
        shapes = source.shapes(names)
        missing = [table for table in names if table not in shapes]
        if missing:
            raise TransferError(f"the source has no table {', '.join(missing)}; nothing was copied")
        for table in names:
            shapes[table].require_shared_types(table)
        for table, kind in tables:
            target.create(cursor, table, kind, shapes[table])
        found = target.shapes(names)
        misfits = [
            f"{table} ({why})"
            for table in names
            if (why := shapes[table].difference(found.get(table, Shape(()))))
        ]
        if misfits:
            raise TransferError(
                f"cannot copy into {target!r}: its tables differ from the source's: "
                f"{'; '.join(misfits)}. Nothing was copied."
            )
        full = rows_held(cursor, names)
        if full:
            raise TransferError(
                f"cannot copy into {target!r}: it already holds rows in {listed(full)}, and "
                "copied rows would collide with them (the same positions, the same keys). "
                "Copy into a new, empty database; nothing was copied."
            )
        for number, (table, kind) in enumerate(tables):
            path = Path(folder) / f"{number}.csv"
            order = ["position"] if kind == "events" else list(shapes[table].key)
            exported = source.export(table, shapes[table].names, order, path)
            loaded = target.load(cursor, table, shapes[table], path)
            path.unlink()
            if loaded != exported:
                raise TransferError(
                    f"copying {table}: {exported:,} rows were read but {loaded:,} written; "
                    "nothing was copied"
                )
            rows[table] = loaded
            if progress is not None:
                progress(table, loaded)
        target.continue_log(cursor, plan.events)
    return Copied(rows, time.perf_counter() - started)


def rows_held(cursor: Any, tables: Sequence[str]) -> dict[str, int]:
    """The tables among ``tables`` that hold rows, with how many, counted in one query
    on ``cursor`` (a DuckDB or PostgreSQL cursor, or a database)."""
    if not tables:
        return {}
    checked = map(checked_identifier, tables)
    counts = ", ".join(f"(SELECT count(*) FROM {table})" for table in checked)
    found = cursor.execute(f"SELECT {counts}").fetchone()
    return {table: n for table, n in zip(tables, found, strict=True) if n}


def listed(counts: dict[str, int]) -> str:
    """Tables and their row counts, for a refusal: ``a.b (1,200), c.d (3)``."""
    return ", ".join(f"{table} ({n:,})" for table, n in counts.items())


def shapes_of(
    tables: Sequence[str],
    qualified: Sequence[str],
    columns: Sequence[tuple[str, str, str, bool]],
    keys: Sequence[tuple[str, Sequence[str]]],
) -> dict[str, Shape]:
    """The shape of each of ``tables`` found in a catalog's rows: ``columns`` as
    (qualified table, column, DuckDB type, not null), in order, and ``keys`` as
    (qualified table, primary key columns). Tables with no columns are left out."""
    found: dict[str, list[tuple[str, str]]] = {}
    required: dict[str, set[str]] = {}
    for table, name, kind, not_null in columns:
        found.setdefault(table, []).append((name, kind))
        if not_null:
            required.setdefault(table, set()).add(name)
    key_of = {table: tuple(key) for table, key in keys}
    return {
        table: Shape(
            tuple(found[name]),
            key_of.get(name, ()),
            frozenset(required.get(name, set()) | set(key_of.get(name, ()))),
        )
        for table, name in zip(tables, qualified, strict=True)
        if name in found
    }


def column_list(names: Sequence[str]) -> str:
    """Column names quoted for SQL on either backend (any name, keywords too), with commas."""
    return ", ".join('"' + name.replace('"', '""') + '"' for name in names)


def csv_columns(shape: Shape) -> str:
    """A DuckDB ``read_csv`` columns struct for the shape, e.g. ``{'id': 'VARCHAR'}``."""
    return "{" + ", ".join(f"'{quoted(name)}': '{kind}'" for name, kind in shape.columns) + "}"


def quoted(text: str | Path) -> str:
    """Text fit for a SQL string literal."""
    return str(text).replace("'", "''")
