"""Check a database's tables for damage, and report it without raising.

Loading a damaged stream fails with :class:`~mallbots.es.errors.CorruptEventError`,
which names one stream and one version. :func:`check_database` looks at everything at
once: it scans every event table registered on the database (``database.log_tables``)
and returns a :class:`CheckReport` listing each problem with its table, stream,
version and position.

The structural checks are one SQL query each over a whole table: versions that are
missing, repeated or below 1, positions that repeat (across all tables) or run against
a stream's versions, event ids that repeat, empty stream keys, event names the registry
does not know. Payloads are decoded in batches, as the log reader does; only a batch
that fails is decoded row by row, to name every bad row in it.

Besides the event tables, the check reads every other table it is given (snapshots,
read models, plain tables, checkpoints) whole, column by column: a table DuckDB cannot
read (a storage block that fails its checksum) is a problem naming the table, and the
check goes on with the rest. It also runs :class:`Invariant` queries: rules across
tables that every committed command keeps (a checked-out basket has its order...),
each one SQL query whose rows are the places that break it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

from mallbots.es import serde
from mallbots.es.decoding import EVENT_COLUMNS, decode_rows
from mallbots.es.duckdb.database import Database, checked_identifier
from mallbots.es.errors import PayloadError, UnknownNameError
from mallbots.es.registry import Registry

UNREADABLE_TABLE = "unreadable table"
VERSION_GAP = "version gap"
DUPLICATE_VERSION = "duplicate version"
VERSION_BELOW_ONE = "version below 1"
DUPLICATE_POSITION = "duplicate position"
POSITION_ORDER = "position out of stream order"
DUPLICATE_EVENT_ID = "duplicate event id"
EMPTY_STREAM_KEY = "empty stream key"
UNKNOWN_EVENT = "unknown event name"
BAD_JSON = "event data is not JSON"
BAD_PAYLOAD = "payload does not fit its type"
BAD_METADATA = "bad metadata"

KINDS = (
    UNREADABLE_TABLE,
    VERSION_GAP,
    DUPLICATE_VERSION,
    VERSION_BELOW_ONE,
    DUPLICATE_POSITION,
    POSITION_ORDER,
    DUPLICATE_EVENT_ID,
    EMPTY_STREAM_KEY,
    UNKNOWN_EVENT,
    BAD_JSON,
    BAD_PAYLOAD,
    BAD_METADATA,
)
"""Every kind of problem the event checks report, in the order they report them
(an :class:`Invariant`'s kind comes after these)."""

DEFAULT_REMEDY = "restore the file from a backup, or copy out what can still be read"

_SHOWN = 20  # problems listed by str(report); the frame has them all


@dataclass(frozen=True)
class Problem:
    """One thing wrong in an event table."""

    table: str
    stream_name: str
    stream_id: str
    version: int | None
    position: int | None
    kind: str
    detail: str

    def __str__(self) -> str:
        where = self.table
        if self.stream_name or self.stream_id:
            where += f": {self.stream_name} {self.stream_id!r}"
        if self.version is not None:
            where += f" version {self.version}"
        if self.position is not None:
            where += f" (position {self.position})"
        return f"{self.kind}: {where}: {self.detail}"


@dataclass
class CheckReport:
    """What :func:`check_database` found: the problems, and how much it looked at."""

    tables: tuple[str, ...]
    events: int = 0
    streams: int = 0
    problems: list[Problem] = field(default_factory=list)
    read: tuple[str, ...] = ()
    """The other tables read whole (snapshots, read models, plain tables...)."""
    invariants: tuple[str, ...] = ()
    """The kinds of the invariants checked."""
    notes: list[str] = field(default_factory=list)
    """What was not checked, and why."""

    @property
    def ok(self) -> bool:
        """Whether no problem was found."""
        return not self.problems

    @property
    def counts(self) -> dict[str, int]:
        """How many problems of each kind (kinds with none are left out)."""
        found = Counter(problem.kind for problem in self.problems)
        return {kind: found[kind] for kind in KINDS if found[kind]} | {
            kind: n for kind, n in found.items() if kind not in KINDS
        }

    @property
    def damaged_streams(self) -> set[tuple[str, str, str]]:
        """(table, stream_name, stream_id) of every stream with a problem."""
        return {(p.table, p.stream_name, p.stream_id) for p in self.problems}

    def frame(self) -> pd.DataFrame:
        """The problems as a DataFrame, one row each."""
        columns = ["table", "stream_name", "stream_id", "version", "position", "kind", "detail"]
        rows = [[getattr(problem, c) for c in columns] for problem in self.problems]
        frame = pd.DataFrame(rows, columns=columns)
        return frame.astype({"version": "Int64", "position": "Int64"})

    def __str__(self) -> str:
        tables = ", ".join(self.tables) or "none"
        head = [
            f"checked {len(self.tables)} event table(s) ({tables}): "
            f"{self.events:,} events in {self.streams:,} streams"
        ]
        if self.read:
            head.append(f"read {len(self.read)} other table(s) whole ({', '.join(self.read)})")
        if self.invariants:
            head.append(f"checked {len(self.invariants)} rule(s) across tables")
        head += [f"not checked: {note}" for note in self.notes]
        if self.ok:
            return "\n".join([*head, "no problems found"])
        counts = ", ".join(f"{n} {kind}" for kind, n in self.counts.items())
        lines = [*head, f"{len(self.problems)} problem(s): {counts}"]
        lines += [f"  {problem}" for problem in self.problems[:_SHOWN]]
        if len(self.problems) > _SHOWN:
            lines.append(f"  ... and {len(self.problems) - _SHOWN} more (see .frame())")
        return "\n".join(lines)


@dataclass(frozen=True)
class Invariant:
    """A rule across tables that every committed command keeps, as one query.

    ``sql`` selects table, stream_name, stream_id, version, position and detail for
    every place that breaks the rule; ``tables`` are the tables it reads (if one is
    missing or unreadable, the rule is not checked, and the report says so).
    """

    kind: str
    tables: tuple[str, ...]
    sql: str


def check_database(
    database: Database,
    registry: Registry,
    tables: Sequence[str] | None = None,
    batch_size: int = 5000,
    *,
    read: Sequence[str] = (),
    invariants: Sequence[Invariant] = (),
    remedies: Mapping[str, str] | None = None,
) -> CheckReport:
    """Scan event tables (default: all registered on ``database``) and report damage.

    ``read`` names other tables to read whole, ``invariants`` rules across tables to
    check; ``remedies`` says, per table, what to do if it cannot be read (default:
    :data:`DEFAULT_REMEDY`). Never raises for what it finds: every problem goes into
    the report.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    names = list(database.log_tables if tables is None else tables)
    names = [checked_identifier(table) for table in names]
    others = [checked_identifier(table) for table in read if table not in names]
    report = CheckReport(tables=tuple(names), read=tuple(others))
    remedies = remedies or {}
    unreadable: set[str] = set()
    with database.fresh_cursor() as cursor:
        for table in [*names, *others]:
            problem = _read_whole(cursor, table, remedies.get(table, DEFAULT_REMEDY))
            if problem is not None:
                report.problems.append(problem)
                unreadable.add(table)
        for table in names:
            if table in unreadable:
                continue
            events, streams = cursor.execute(
                f"SELECT count(*), count(DISTINCT (stream_name, stream_id)) FROM {table}"
            ).fetchone()
            report.events += events
            report.streams += streams
            for kind, sql in _structural_queries(table):
                for row in cursor.execute(sql).fetchall():
                    report.problems.append(Problem(table, *row[:4], kind, row[4]))
            known = registry.names("event")
            for row in cursor.execute(_unknown_names_query(table), [known]).fetchall():
                detail = str(UnknownNameError(row[4]))
                report.problems.append(Problem(table, *row[:4], UNKNOWN_EVENT, detail))
            report.problems += _payload_problems(cursor, table, registry, known, batch_size)
        readable = [table for table in names if table not in unreadable]
        if readable:
            report.problems += _duplicate_positions(cursor, readable)
        report.invariants = tuple(invariant.kind for invariant in invariants)
        for invariant in invariants:
            report.problems += _broken(cursor, invariant, unreadable, report.notes)
    return report


# --- whole tables and invariants -----------------------------------------------------------


def _read_whole(cursor: Any, table: str, remedy: str) -> Problem | None:
    """Read every column of every row of ``table``; a problem if DuckDB cannot."""
    try:
        cursor.execute(f"SELECT count(*), max(hash(COLUMNS(*))) FROM {table}").fetchall()
    except duckdb.InterruptException:
        raise  # Ctrl-C, not damage
    except duckdb.Error as error:
        return Problem(table, "", "", None, None, UNREADABLE_TABLE, _why_unreadable(error, remedy))
    return None


def _why_unreadable(error: duckdb.Error, remedy: str) -> str:
    """DuckDB's read error told plainly, without its SQL, and what to do."""
    message = str(error)
    checksum = re.search(r"checksum .* in block at location (\d+)", message)
    if checksum:
        what = (
            "a storage block of it is damaged (its checksum does not match; the block "
            f"starts at byte {int(checksum.group(1)):,} of the file)"
        )
    else:
        what = f"DuckDB could not read it ({type(error).__name__}: {message.splitlines()[0]})"
    return f"{what}; {remedy}"


def _broken(cursor: Any, invariant: Invariant, unreadable: set[str], notes: list[str]) -> list:
    """The places that break one invariant (none if it could not be checked: noted)."""
    skipped = [table for table in invariant.tables if table in unreadable]
    if skipped:
        notes.append(f"{invariant.kind} ({', '.join(skipped)} cannot be read)")
        return []
    try:
        rows = cursor.execute(invariant.sql).fetchall()
    except duckdb.InterruptException:
        raise  # Ctrl-C, not a rule that could not be checked
    except duckdb.Error as error:
        notes.append(f"{invariant.kind} ({type(error).__name__}: {str(error).splitlines()[0]})")
        return []
    return [Problem(*row[:5], invariant.kind, row[5]) for row in rows]


# --- set-based checks -------------------------------------------------------------------


def _structural_queries(table: str) -> list[tuple[str, str]]:
    """(kind, SQL) pairs; each query selects stream_name, stream_id, version, position,
    detail for every offending row of ``table``."""
    stream = "PARTITION BY stream_name, stream_id ORDER BY stream_version, position"
    return [
        (
            VERSION_GAP,
            f"""
            SELECT stream_name, stream_id, previous + 1, NULL,
                   CASE WHEN stream_version = previous + 2
                        THEN 'version ' || (previous + 1) || ' is missing'
                        ELSE 'versions ' || (previous + 1) || ' to ' || (stream_version - 1)
                             || ' are missing'
                   END || ' (the stream goes from ' || previous || ' to ' || stream_version
                   || ', at position ' || position || ')'
            FROM (
                SELECT stream_name, stream_id, stream_version, position,
                       lag(stream_version, 1, 0) OVER ({stream}) AS previous
                FROM {table}
                WHERE stream_version >= 1
            )
            WHERE stream_version > previous + 1
            ORDER BY stream_name, stream_id, stream_version
            """,
        ),
        (
            DUPLICATE_VERSION,
            f"""
            SELECT stream_name, stream_id, stream_version, min(position),
                   count(*) || ' events share this version (positions '
                   || string_agg(position::VARCHAR, ', ' ORDER BY position) || ')'
            FROM {table}
            GROUP BY stream_name, stream_id, stream_version
            HAVING count(*) > 1
            ORDER BY stream_name, stream_id, stream_version
            """,
        ),
        (
            VERSION_BELOW_ONE,
            f"""
            SELECT stream_name, stream_id, stream_version, position,
                   'versions start at 1; this event has version ' || stream_version
            FROM {table}
            WHERE stream_version < 1
            ORDER BY stream_name, stream_id, stream_version
            """,
        ),
        (
            POSITION_ORDER,
            f"""
            SELECT stream_name, stream_id, stream_version, position,
                   'position ' || position || ' comes before position ' || previous
                   || ' of the version before it: the log would replay it too early'
            FROM (
                SELECT stream_name, stream_id, stream_version, position,
                       lag(position) OVER ({stream}) AS previous,
                       lag(stream_version) OVER ({stream}) AS previous_version
                FROM {table}
            )
            WHERE position < previous AND stream_version > previous_version
            ORDER BY stream_name, stream_id, stream_version
            """,
        ),
        (
            DUPLICATE_EVENT_ID,
            f"""
            SELECT stream_name, stream_id, stream_version, position,
                   'event id ' || event_id || ' is also used at '
                   || (count(*) OVER (PARTITION BY event_id) - 1) || ' other row(s)'
            FROM {table}
            QUALIFY count(*) OVER (PARTITION BY event_id) > 1
            ORDER BY event_id, position
            """,
        ),
        (
            EMPTY_STREAM_KEY,
            f"""
            SELECT stream_name, stream_id, stream_version, position,
                   'a stream needs a non-empty name and id'
            FROM {table}
            WHERE stream_name = '' OR stream_id = ''
            ORDER BY position
            """,
        ),
    ]


def _unknown_names_query(table: str) -> str:
    return f"""
        SELECT stream_name, stream_id, stream_version, position, event_name
        FROM {table}
        WHERE event_name NOT IN (SELECT unnest($1::VARCHAR[]))
        ORDER BY position
    """


def _duplicate_positions(cursor: Any, tables: list[str]) -> list[Problem]:
    union = " UNION ALL ".join(
        f"SELECT '{table}' AS source, stream_name, stream_id, stream_version, position FROM {table}"
        for table in tables
    )
    rows = cursor.execute(
        f"""
        SELECT source, stream_name, stream_id, stream_version, position, shared
        FROM (
            SELECT *, count(*) OVER (PARTITION BY position) AS shared FROM ({union})
        )
        WHERE shared > 1
        ORDER BY position, source, stream_name, stream_id, stream_version
        """
    ).fetchall()
    return [
        Problem(
            source,
            name,
            stream_id,
            version,
            position,
            DUPLICATE_POSITION,
            f"position {position} is held by {shared} events; the log needs it unique",
        )
        for source, name, stream_id, version, position, shared in rows
    ]


# --- payloads, in batches ---------------------------------------------------------------


def _payload_problems(
    cursor: Any, table: str, registry: Registry, known: list[str], batch_size: int
) -> list[Problem]:
    """Decode every event of a known name, a batch of positions at a time."""
    low, high = cursor.execute(
        f"SELECT coalesce(min(position), 1) - 1, coalesce(max(position), 0) FROM {table}"
    ).fetchone()
    sql = (
        f"SELECT {EVENT_COLUMNS} FROM {table} "
        "WHERE position > $1 AND position <= $2 AND event_name IN (SELECT unnest($3::VARCHAR[])) "
        "ORDER BY position"
    )
    problems = []
    start = low
    while start < high:
        end = min(start + batch_size, high)
        rows = cursor.execute(sql, [start, end, known]).fetchall()
        start = end
        try:
            events = decode_rows(rows, registry)
        except Exception:  # find the bad rows one by one below
            suspects = rows
        else:  # decodes, but metadata must also be an object
            suspects = [r for r, e in zip(rows, events, strict=True) if not _is_object(e.metadata)]
        for row in suspects:
            found = _row_problem(row, registry)
            if found is not None:
                kind, detail = found
                problems.append(Problem(table, row[8], row[7], row[1], row[0], kind, detail))
    return problems


def _row_problem(row: tuple, registry: Registry) -> tuple[str, str] | None:
    """What is wrong with one stored event, if anything."""
    name, data, metadata = row[3], row[4], row[5]
    try:
        value = serde.loads(data)
    except (ValueError, TypeError, RecursionError) as error:
        return BAD_JSON, f"{name}: {_short(data)} is not valid JSON ({error})"
    try:
        registry.registration(name).decode(value)
    except serde.FieldError as error:
        return BAD_PAYLOAD, str(PayloadError(name, str(error)))
    except Exception as error:  # a payload type's own check refused it
        return BAD_PAYLOAD, str(PayloadError(name, f"{type(error).__name__}: {error}"))
    if metadata != "{}":
        try:
            parsed = serde.loads_metadata(metadata)
        except (ValueError, TypeError, RecursionError) as error:
            return BAD_METADATA, f"{_short(metadata)} is not valid JSON ({error})"
        if not isinstance(parsed, dict):
            return BAD_METADATA, f"{_short(metadata)} is not a JSON object"
    try:  # anything left (a timestamp out of range...) shows when the row is built
        decode_rows([row], registry)
    except Exception as error:
        return BAD_PAYLOAD, f"{type(error).__name__}: {error}"
    return None


def _is_object(value: Any) -> bool:
    return isinstance(value, Mapping)


def _short(text: Any) -> str:
    shown = repr(text)
    return shown if len(shown) <= 60 else shown[:57] + "..."
