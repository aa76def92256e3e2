"""What one command changed: the events it appended and the rows it and its handlers wrote.

Copying every table before and after a command shows what changed, at the price of
reading the whole shop twice (1.3 s a click on the medium mall). :class:`ChangeTracker`
reads only where the command could have written: it runs the command inside a
transaction of its own, takes the ids the command names (its fields, what it returned,
its new events' streams and the ids in their payloads), and reads the rows holding one
of those ids twice: through the open transaction (after) and through a second cursor
that still sees the last commit (before). Rows that differ are the changes; ids in them
lead to more rows (a cancelled order's sales lines name their stores) until no new id
turns up. Then the transaction commits.

On a shop kept in PostgreSQL the same reading is done in the read side's DuckDB, which
holds copies of every table the shop writes on the server (see
:mod:`mallbots.es.postgres.table_mirror`). The tracker catches it up, opens the DuckDB
transaction and runs the command: the command commits on the server, and the read
side's catch-up after it copies its events and rows into the open DuckDB transaction,
where they are compared with the last DuckDB commit as above. What another process
committed meanwhile comes over in that catch-up too, and shows only where it touched
rows this command names. If the comparison fails, the DuckDB transaction rolls back
and the next catch-up copies the command's writes again: the server is never behind.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import pandas as pd

from mallbots.es import Database
from mallbots.es.identifiers import checked_identifier
from mallbots.es.set_based import quoted

MAX_ROUNDS = 4
"""How many times ids found in changed rows are followed to further rows."""


@dataclasses.dataclass(frozen=True)
class TableChange:
    """Rows of one table that a command added, changed or removed."""

    table: str
    frame: pd.DataFrame
    """A ``change`` column (added / changed / removed), then the row (as it is now, or
    as it was for a removed row)."""

    def counts(self) -> str:
        counts = self.frame["change"].value_counts()
        return ", ".join(
            f"{counts[kind]} {kind}" for kind in ("added", "changed", "removed") if kind in counts
        )


def compare_rows(
    table: str, columns: Sequence[str], before: dict[tuple, tuple], after: dict[tuple, tuple]
) -> TableChange | None:
    """The rows added, changed and removed from ``before`` to ``after`` (rows by key)."""
    changed = [("added", row) for key, row in after.items() if key not in before]
    changed += [
        ("changed", row) for key, row in after.items() if key in before and before[key] != row
    ]
    changed += [("removed", row) for key, row in before.items() if key not in after]
    if not changed:
        return None
    frame = pd.DataFrame([row for _, row in changed], columns=list(columns))
    frame.insert(0, "change", [kind for kind, _ in changed])
    return TableChange(table, frame)


def primary_key(database: Database, table: str) -> list[str]:
    """The columns of ``table``'s primary key (empty if it has none)."""
    schema, _, name = table.rpartition(".")
    (key,) = database.execute(
        "SELECT constraint_column_names FROM duckdb_constraints() "
        "WHERE schema_name = $1 AND table_name = $2 AND constraint_type = 'PRIMARY KEY'",
        [schema, name],
    ).fetchone() or ([],)
    return list(key)


class TableState:
    """Every row of some tables, keyed by primary key, to compare before and after.

    It reads whole tables: fine for a small shop or a test, too slow for a click on a
    big mall (:class:`ChangeTracker` reads only the rows a command could have touched).
    """

    def __init__(self, database: Database, tables: Sequence[str]) -> None:
        self.columns: dict[str, list[str]] = {}
        self.rows: dict[str, dict[tuple, tuple]] = {}
        for table in tables:
            key = primary_key(database, table)  # first: a query ends the cursor's last result
            result = database.execute(f"SELECT * FROM {table} ORDER BY ALL")
            columns = [column[0] for column in result.description]
            positions = [columns.index(column) for column in key] or list(range(len(columns)))
            self.columns[table] = columns
            self.rows[table] = {tuple(row[i] for i in positions): row for row in result.fetchall()}

    def changes_since(self, before: TableState) -> list[TableChange]:
        """What changed from ``before`` to this state, table by table (unchanged left out)."""
        found = []
        for table, rows in self.rows.items():
            change = compare_rows(table, self.columns[table], before.rows.get(table, {}), rows)
            if change is not None:
                found.append(change)
        return found


@dataclasses.dataclass(frozen=True)
class TableShape:
    """What the tracker needs to know of a table: its columns, key and id columns."""

    table: str
    columns: list[str]
    key: list[int]
    """Positions of the primary key's columns (every column if it has no key)."""
    key_id: str | None
    """The key's first id column (``id``, ``order_id``, ``stream_id`` ...), if it has one:
    a row is looked up by it."""
    other_ids: list[str]
    """The id columns outside the key (a shopping list's ``order_id`` ...): a row made
    for an order under an id of its own is found by them."""
    id_columns: list[str]
    """Every id column: a row that changed leads on to the rows these name."""

    @classmethod
    def of(cls, database: Database, table: str) -> TableShape:
        schema, _, name = table.rpartition(".")
        described = database.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
            [schema, name],
        ).fetchall()
        columns = [column for column, _ in described]
        key = primary_key(database, table)
        ids = [column for column, kind in described if kind == "VARCHAR" and _is_id_name(column)]
        key_ids = [column for column in key if column in ids]
        positions = [columns.index(column) for column in key] or list(range(len(columns)))
        others = [column for column in ids if column not in key]
        return cls(table, columns, positions, key_ids[0] if key_ids else None, others, ids)

    def whole(self) -> str:
        """SQL for every row of the table."""
        return f"SELECT {', '.join(self.columns)} FROM {self.table}"

    def keyed(self, rows: Iterable[tuple]) -> dict[tuple, tuple]:
        return {tuple(row[i] for i in self.key): row for row in rows}

    def ids_in(self, rows: Iterable[tuple], own_key: bool = True) -> set[str]:
        """The ids the rows hold (``own_key=False``: but their key's)."""
        columns = [c for c in self.id_columns if own_key or c != self.key_id]
        places = [self.columns.index(column) for column in columns]
        return {row[i] for row in rows for i in places if isinstance(row[i], str)}


@dataclasses.dataclass(frozen=True)
class Lookup:
    """Where to look for rows a command may have written, in every table at once.

    ``ids``: rows whose key holds one of them; ``streams``: rows that name one of these
    ids outside their key, by the column that names them (``order_id``: the orders the
    command's events went to, or that its ``order_id`` field names).
    """

    ids: set[str]
    streams: Mapping[str, set[str]] = dataclasses.field(default_factory=dict)

    def sql(self, shapes: Sequence[TableShape]) -> str | None:
        """One query for the row ids of every table's matching rows: a ``UNION ALL`` of
        (table number, rowid), one part per condition (an ``OR`` would scan the whole
        table), the ids written in (a parameter list made each part a join). One narrow
        query, not one a table: a query costs a third of a millisecond before it reads
        anything, and a union of whole rows (``BY NAME``) took ten times as long."""
        key_ids = f"({quoted(*self.ids)})" if self.ids else None
        parts = []
        for n, shape in enumerate(shapes):
            where = [f"{shape.key_id} IN {key_ids}"] if shape.key_id and key_ids else []
            where += [
                f"{column} IN ({quoted(*self.streams[column])})"
                for column in shape.other_ids
                if self.streams.get(column)
            ]
            parts += [f"SELECT {n}, rowid FROM {shape.table} WHERE {c}" for c in where]
        return " UNION ALL ".join(parts) or None


def rows_found(
    cursor: Any, lookup: Lookup, shapes: Sequence[TableShape]
) -> list[dict[tuple, tuple]]:
    """The rows ``lookup`` finds through ``cursor``, keyed, one dict per table."""
    found: list[dict[tuple, tuple]] = [{} for _ in shapes]
    query = lookup.sql(shapes)
    if query is None:
        return found
    matches: dict[int, set[int]] = {}
    for n, rowid in cursor.execute(query).fetchall():
        matches.setdefault(n, set()).add(rowid)
    for n, rowids in sorted(matches.items()):
        listed = ", ".join(str(int(rowid)) for rowid in sorted(rowids))
        rows = cursor.execute(f"{shapes[n].whole()} WHERE rowid IN ({listed})").fetchall()
        found[n] = shapes[n].keyed(rows)
    return found


@dataclasses.dataclass
class CommandOutcome:
    """What running one command gave: its result and what it changed."""

    result: Any
    events: pd.DataFrame
    """The events it appended, in position order (as :meth:`EventLog.frame` shows them)."""
    changes: list[TableChange]
    """The rows it changed, table by table, in the order of ``shop.tables``."""
    compared_whole: list[str] = dataclasses.field(default_factory=list)
    """Tables read whole because the ids did not account for their row count (none,
    for the shop's own commands)."""


class ChangeTracker:
    """Runs a shop's commands and says what each changed, reading only where it wrote."""

    def __init__(self, shop: Any) -> None:
        self.shop = shop
        self._shapes: dict[str, TableShape] = {}
        if not shop.database.read_only:
            for shape in self.tables():  # now: DuckDB cannot index inside a command's writes
                index_lookups(shop.database, shape)

    def tables(self) -> list[TableShape]:
        """The shop's tables, events apart (they are shown as events)."""
        names = [table for table in self.shop.tables if not table.endswith(".events")]
        for name in names:
            if name not in self._shapes:
                self._shapes[name] = TableShape.of(self.shop.database, name)
        return [self._shapes[name] for name in names]

    def run(self, message: Any) -> CommandOutcome:
        """Run ``message`` on the shop; a refusal propagates and nothing is written."""
        database: Database = self.shop.database
        if self.shop.server is not None:
            self.shop.catch_up()  # "before" is the server as it stands now
        head = self.shop.log.head()
        with database.transaction():  # the command's own unit of work joins this one
            result = self.shop.execute(message)
            events = self.shop.log.frame(after_position=head)
            named = ids_of_message(message) | ids_in_events(events)
            if isinstance(result, str):
                named.add(result)
            whole: list[str] = []
            references = streams_of(events)
            for column, value in id_fields(message).items():
                references.setdefault(column, set()).add(value)
            changes = self._changes(database, Lookup(named, references), whole)
        return CommandOutcome(result, events, changes, whole)

    def _changes(
        self, database: Database, first: Lookup, compared_whole: list[str]
    ) -> list[TableChange]:
        """The rows that differ between the last commit and the open transaction, among
        those ``first`` finds (new rows name what the command or its events name) and,
        round by round, those keyed by an id in a row that
        differs. A table whose row count moved by more than that explains is compared
        whole (no command of the shop needs it; a new one might)."""
        shapes = self.tables()
        before: list[dict[tuple, tuple]] = [{} for _ in shapes]
        after: list[dict[tuple, tuple]] = [{} for _ in shapes]
        with database.fresh_cursor() as committed:  # sees the shop as it was before
            lookup, seen = first, set(first.ids)
            for _ in range(MAX_ROUNDS):
                was = rows_found(committed, lookup, shapes)
                now = rows_found(database.cursor(), lookup, shapes)
                found: set[str] = set()
                for n, shape in enumerate(shapes):
                    before[n].update(was[n])
                    after[n].update(now[n])
                    added = [row for key, row in now[n].items() if key not in before[n]]
                    differing = [row for key, row in now[n].items() if was[n].get(key) != row]
                    differing += [row for key, row in was[n].items() if key not in now[n]]
                    # A new row's own key is new too: it names nothing else to look up.
                    found |= shape.ids_in([r for r in differing if r not in added])
                    found |= shape.ids_in(added, own_key=False)
                new = {value for value in found - seen if value}
                if not new:
                    break
                seen |= new
                lookup = Lookup(new)
            counts = "SELECT " + ", ".join(f"(SELECT count(*) FROM {s.table})" for s in shapes)
            moved = zip(
                committed.execute(counts).fetchone(),
                database.execute(counts).fetchone(),
                strict=True,
            )
            for n, (count_before, count_after) in enumerate(moved):
                explained = len(after[n].keys() - before[n]) - len(before[n].keys() - after[n])
                if count_after - count_before != explained:
                    compared_whole.append(shapes[n].table)
                    before[n] = shapes[n].keyed(committed.execute(shapes[n].whole()).fetchall())
                    after[n] = shapes[n].keyed(database.execute(shapes[n].whole()).fetchall())
        changes = (
            compare_rows(shape.table, shape.columns, before[n], after[n])
            for n, shape in enumerate(shapes)
        )
        return [change for change in changes if change is not None]


def index_lookups(database: Database, shape: TableShape) -> None:
    """Index the id columns outside a table's key, which a click looks rows up by.

    Without an index each lookup scans the table: about 3 ms a table, before and after
    a checkout, on the million-event mall. The shop itself finds an order's invoices and
    notifications by these columns too.
    """
    for column in shape.other_ids:
        name = checked_identifier(f"{shape.table.replace('.', '_')}_by_{column}")
        with database.writing() as cursor:
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {shape.table} ({column})")


def streams_of(events: pd.DataFrame) -> dict[str, set[str]]:
    """The ids of the streams new events went to, by the column that names such a
    stream elsewhere: ``ordering.Order`` streams under ``order_id``."""
    streams: dict[str, set[str]] = {}
    for stream_name, stream_id in zip(
        events.get("stream_name", ()), events.get("stream_id", ()), strict=True
    ):
        column = stream_name.rpartition(".")[2].lower() + "_id"
        streams.setdefault(column, set()).add(stream_id)
    return streams


def id_fields(message: Any) -> dict[str, str]:
    """The ids a command names, by field: its text fields called ``id`` or ``*_id``."""
    if not dataclasses.is_dataclass(message):
        return {}
    return {
        field.name: value
        for field in dataclasses.fields(message)
        if _is_id_name(field.name) and isinstance(value := getattr(message, field.name), str)
    }


def ids_of_message(message: Any) -> set[str]:
    """The ids a command names."""
    return set(id_fields(message).values())


def ids_in_events(events: pd.DataFrame) -> set[str]:
    """The ids new events' payloads name: every ``id`` or ``*_id`` field, items' too."""
    found: set[str] = set()
    for data in events.get("event_data", ()):
        found |= set(_ids_in_json(json.loads(data) if isinstance(data, str) else data))
    return found


def _ids_in_json(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for name, item in value.items():
            if _is_id_name(name) and isinstance(item, str):
                yield item
            else:
                yield from _ids_in_json(item)
    elif isinstance(value, list):
        for item in value:
            yield from _ids_in_json(item)


def _is_id_name(name: str) -> bool:
    return name == "id" or name.endswith("_id")


def run_and_compare(shop: Any, action: Callable[[], Any]) -> tuple[Any, list[TableChange]]:
    """Run ``action`` and compare every table before and after (the slow, sure way).

    For tests: it shows what :class:`ChangeTracker` must find, whatever the command.
    """
    tables = [table for table in shop.tables if not table.endswith(".events")]
    before = TableState(shop.database, tables)
    result = action()
    return result, TableState(shop.database, tables).changes_since(before)
