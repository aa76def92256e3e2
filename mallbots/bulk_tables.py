"""A plain table's rows held in memory during a bulk load, written a batch at a time.

A :class:`BufferedTable` stands in for a module repository's :class:`~mallbots.table.Table`
while a :class:`~mallbots.es.duckdb.bulk.BulkWriter` runs: the repository's inserts and
updates change rows in memory, its look-ups read them back (and the table, for rows
from before the load), and the writer writes every row changed since its last batch,
in one statement, in that batch's transaction. So the module's own rules run as in a
command, and its rows commit with the events of the same commands.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import duckdb
import pandas as pd

from mallbots.table import Row, Table


class BufferedTable:
    """A :class:`Table`'s get, insert and update, on rows in memory (a ``RowSource``)."""

    def __init__(
        self,
        table: Table,
        *,
        keep_written: bool = True,
        let_go_idle: int | None = None,
        wait: Callable[[], None] | None = None,
    ) -> None:
        """``let_go_idle=n``: a row no command used (read or changed) during ``n`` whole
        periods between takes is let go, for a table that grows a row per order: it
        is in the table, and a later ``get`` waits for the batch being written
        (``wait``) and reads it back. ``keep_written=False`` lets every row go once
        taken for writing, for a table whose rows commands never read back (a log of
        messages)."""
        self.table = table
        self.keep_written = keep_written
        self.let_go_idle = let_go_idle
        self._wait = wait
        self.name = table.name
        self.columns = table.columns
        self.key = table.key
        schema, _, name = table.name.rpartition(".")
        types = dict(
            table.database.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = $1 AND table_name = $2",
                [schema or "main", name],
            ).fetchall()
        )
        self._types = [types[column] for column in self.columns]
        (count,) = table.database.execute(f"SELECT count(*) FROM {table.name}").fetchone()
        self._fresh = count == 0  # nothing to look up in the table: every row is here
        self._rows: dict[Any, tuple[Any, ...] | None] = {}
        """Each row's values in column order (a tuple: a third of a dict's memory)."""
        self._changed: dict[Any, None] = {}  # an ordered set: writes are reproducible
        self._used: set[Any] = set()  # keys read or changed since the last take
        self._used_before: list[set[Any]] = []  # ... in the periods before, oldest first
        self._gone: set[Any] = set()  # keys of rows let go: in the table, not here
        self.read_back = 0
        """Rows read back from the table after they were let go (or from before the load)."""

    def get(self, key: Any) -> Row | None:
        """The row with this key as the load has it, or None."""
        try:
            values = self._rows[key]
        except KeyError:
            if self._fresh and key not in self._gone:
                values = None
            else:
                if self._wait is not None:
                    self._wait()
                row = self.table.get(key)
                values = None if row is None else tuple(row[c] for c in self.columns)
                self._gone.discard(key)
                self.read_back += 1
            self._rows[key] = values
        self._used.add(key)
        return None if values is None else dict(zip(self.columns, values, strict=True))

    def insert(self, row: Mapping[str, Any]) -> None:
        """Add a row (every column given; the caller checked the key is free)."""
        key = row[self.key]
        self._rows[key] = tuple(row[column] for column in self.columns)
        self._changed[key] = None
        self._used.add(key)

    def update(self, key: Any, **changes: Any) -> None:
        """Change some columns of the row with this key (a missing row stays missing)."""
        row = self.get(key)
        if row is not None:
            row.update(changes)
            self._rows[key] = tuple(row[column] for column in self.columns)
            self._changed[key] = None

    def select(self, *args: Any, **kwargs: Any) -> list[Row]:
        raise RuntimeError(
            f"{self.name} is being bulk loaded: its newest rows are in memory until the "
            "load ends. Query it once the load has finished."
        )

    frame = select

    # --- a RowSource of the bulk writer ------------------------------------------------------

    def take(self) -> list[list[Any]] | None:
        """The rows changed since the last take, as text for :meth:`write` to cast."""
        if self.let_go_idle is not None:
            self._let_go_idle(self.let_go_idle)  # never a changed row: it was used in this period
        if not self._changed:
            return None
        rows = self._rows
        taken = [[_text(value) for value in rows[key]] for key in self._changed]
        if not self.keep_written:
            for key in self._changed:
                del rows[key]
            self._fresh = False  # the rows let go are in the table
        self._changed.clear()
        return taken

    def _let_go_idle(self, periods: int) -> None:
        """Let go the rows last used ``periods`` periods before the one ending now."""
        before = self._used_before
        before.append(self._used)
        self._used = set()
        if len(before) <= periods:
            return
        idle = before.pop(0).difference(*before)
        rows, gone = self._rows, self._gone
        for key in idle:
            if rows.pop(key, None) is not None:
                gone.add(key)

    def write(self, cursor: duckdb.DuckDBPyConnection, taken: Sequence[list[Any]]) -> None:
        """Insert the rows, replacing those written by an earlier batch, in one statement."""
        frame = pd.DataFrame(
            {
                column: pd.Series(values, dtype=object)
                for column, values in zip(self.columns, zip(*taken, strict=True), strict=True)
            }
        )
        casts = ", ".join(
            f"CAST({column} AS {kind})"
            for column, kind in zip(self.columns, self._types, strict=True)
        )
        cursor.register("buffered_rows", frame)
        try:
            cursor.execute(
                f"INSERT OR REPLACE INTO {self.name} ({', '.join(self.columns)}) "
                f"SELECT {casts} FROM buffered_rows"
            )
        finally:
            cursor.unregister("buffered_rows")


def _text(value: Any) -> str | None:
    """A value as text DuckDB casts back exactly (None stays NULL)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (Decimal, int)):
        return str(value)
    raise TypeError(f"a plain table cannot hold {type(value).__name__} {value!r}")
