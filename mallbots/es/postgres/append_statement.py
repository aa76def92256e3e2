"""The append as one SQL statement: check the heads, claim positions, insert the rows.

One round trip per append, whatever it holds. The statement

1. reads the head of every stream it appends to;
2. only if each is where its append expects it, claims the positions (the counter's
   ``UPDATE``, see :mod:`mallbots.es.postgres.schema`), which locks the counter's row
   until the transaction ends;
3. inserts the rows at those positions;

and returns each stream's head with the position before the first row (NULL when a
head was not as expected, in which case nothing was claimed or written). An append to
one stream, the common case, skips the table of heads: the counter's ``UPDATE`` asks
the head itself and returns no row when it is not as expected (6 us less of a 70 us
append). Given a snapshot table, it also upserts one stream's snapshot row, only if
the positions were claimed: a save with a snapshot is one statement too, and a refused
append writes no snapshot (a primary-key refusal fails the whole statement).

A small append sends plain values (``VALUES`` lists): for one event, 12 values, where
arrays took about four times as long (psycopg builds each array in Python, and the
server unpacks it). A batch beyond :data:`MOST_VALUES_ROWS` rows sends one array per
column instead (``unnest``), in binary (``%b``): psycopg's text arrays escape every
element with a regular expression, which cost more than half of a 500-event save;
binary arrays saved 2.3 times as many events a second. The statement's text depends
only on the numbers of streams and rows, so psycopg prepares it on the server after a
few uses.
"""

from __future__ import annotations

from functools import lru_cache

from mallbots.es.postgres.schema import CLAIM_POSITIONS, head_sql
from mallbots.es.snapshots import SNAPSHOT_COLUMNS

COLUMNS = (
    ("position", "bigint"),
    ("stream_id", "text"),
    ("stream_name", "text"),
    ("stream_version", "integer"),
    ("event_id", "uuid"),
    ("event_name", "text"),
    ("event_data", "text"),
    ("metadata", "text"),
    ("occurred_at", "timestamptz"),
)
"""An event row's columns and types, in the order the rows give them (position first,
as an offset from 0 among the rows)."""
NAMES = ", ".join(name for name, _ in COLUMNS)
MOST_VALUES_ROWS = 16
"""The most rows sent as a ``VALUES`` list; larger batches go as arrays (measured: a
``VALUES`` list was faster at 1 and 8 events, arrays at 32 and 64)."""
_COLUMNS_OF_R = ", ".join(f"r.{name}" for name, _ in COLUMNS[1:])
_STREAM_TYPES = ("text", "text", "integer")  # stream name, stream id, expected version


def uses_arrays(rows: int) -> bool:
    """Whether a batch of ``rows`` rows is sent as arrays (else as a ``VALUES`` list)."""
    return rows > MOST_VALUES_ROWS


SNAPSHOT_ON_CONFLICT = (
    "ON CONFLICT (stream_id, stream_name) DO UPDATE SET "
    "stream_version = excluded.stream_version, snapshot_name = excluded.snapshot_name, "
    "snapshot_data = excluded.snapshot_data, updated_at = excluded.updated_at"
)
"""How a snapshot row replaces the stream's stored one (one snapshot per stream)."""
SNAPSHOT_TYPES = ("text", "text", "integer", "text", "text", "timestamptz")
"""The types of a snapshot row's columns (:data:`mallbots.es.snapshots.SNAPSHOT_COLUMNS`)."""


def append_sql(table: str, streams: int, rows: int, snapshot_table: str | None = None) -> str:
    """The statement appending ``rows`` rows to ``streams`` streams of ``table``.

    Parameters (:func:`append_parameters`): each stream's name, id and expected version
    (a stream once), the number of rows twice, then each row's columns
    (:data:`COLUMNS`); for one stream, the stream's values in the order its statement
    asks; with :func:`uses_arrays`, the streams' and the rows' values as arrays, one per
    column (one text for every size of batch). With ``snapshot_table``, a snapshot
    row's six values last, upserted with the events.

    It returns a row per stream, its head and the position before the first row
    (NULL if a head was not as expected); for one stream, no row if it was not.
    """
    return _statement(table, None if uses_arrays(rows) else (streams, rows), snapshot_table)


@lru_cache(maxsize=256)
def _statement(table: str, values: tuple[int, int] | None, snapshot_table: str | None) -> str:
    """:func:`append_sql` for ``values`` = (streams, rows) as ``VALUES`` lists, or None:
    arrays."""
    if values is None:
        expected = (
            "SELECT n, stream_name, stream_id, version FROM unnest("
            + ", ".join(f"%b::{kind}[]" for kind in _STREAM_TYPES)
            + ") WITH ORDINALITY AS e(stream_name, stream_id, version, n)"
        )
        appended = "unnest(" + ", ".join(f"%b::{kind}[]" for _, kind in COLUMNS) + ")"
    elif values[0] == 1:
        return _one_stream(table, values[1], snapshot_table)
    else:
        streams, rows = values
        expected = "VALUES " + ", ".join(
            f"({n}, {_placeholders(_STREAM_TYPES, typed=n == 1)})" for n in range(1, streams + 1)
        )
        appended = _values(rows)
    snapshot = "" if snapshot_table is None else _snapshot_upsert(snapshot_table)
    return f"""
WITH expected (n, stream_name, stream_id, version) AS (
    {expected}
), heads AS (
    SELECT e.n, e.version, coalesce(({head_sql(table, "e.stream_id", "e.stream_name")}), 0) AS head
    FROM expected AS e
), claimed AS (
    {CLAIM_POSITIONS}
    WHERE NOT EXISTS (SELECT FROM heads WHERE head <> version)
    RETURNING last_position - %s AS before
), inserted AS (
    INSERT INTO {table} ({NAMES})
    SELECT claimed.before + 1 + r.position, {_COLUMNS_OF_R}
    FROM claimed, {appended} AS r({NAMES})
){snapshot}
SELECT heads.head, claimed.before FROM heads LEFT JOIN claimed ON true ORDER BY heads.n
"""


def _one_stream(table: str, rows: int, snapshot_table: str | None) -> str:
    """:func:`append_sql` for one stream, without the heads' table: the counter's
    ``UPDATE`` itself asks the head (refused, it returns no row)."""
    return f"""
WITH claimed AS (
    {CLAIM_POSITIONS}
    WHERE coalesce(({head_sql(table)}), 0) = %s::integer
    RETURNING %s::integer AS head, last_position - %s AS before
), inserted AS (
    INSERT INTO {table} ({NAMES})
    SELECT claimed.before + 1 + r.position, {_COLUMNS_OF_R}
    FROM claimed, {_values(rows)} AS r({NAMES})
){"" if snapshot_table is None else _snapshot_upsert(snapshot_table)}
SELECT head, before FROM claimed
"""


def _snapshot_upsert(table: str) -> str:
    """A CTE upserting one snapshot row by its stream, only if positions were claimed."""
    return f""", snapshot AS (
    INSERT INTO {table} ({SNAPSHOT_COLUMNS})
    SELECT {_placeholders(SNAPSHOT_TYPES, typed=True)} FROM claimed
    {SNAPSHOT_ON_CONFLICT}
)"""


def append_parameters(streams: list[tuple[str, str, int]], rows: list[list]) -> list:
    """The parameters of :func:`append_sql` for these streams (name, id, expected version)
    and rows."""
    count = [len(rows), len(rows)]
    if len(streams) == 1 and not uses_arrays(len(rows)):
        ((name, stream_id, version),) = streams
        values = [len(rows), stream_id, name, version, version, len(rows)]
        return values + [value for row in rows for value in row]
    if uses_arrays(len(rows)):
        arrays = [list(values) for values in zip(*streams, strict=True)]
        return arrays + count + [list(column) for column in zip(*rows, strict=True)]
    values = [value for stream in streams for value in stream]
    return values + count + [value for row in rows for value in row]


def _values(rows: int) -> str:
    """A ``VALUES`` list of ``rows`` event rows, typed on its first row."""
    kinds = tuple(kind for _, kind in COLUMNS)
    return (
        "(VALUES " + ", ".join(f"({_placeholders(kinds, typed=i == 0)})" for i in range(rows)) + ")"
    )


def _placeholders(kinds: tuple[str, ...], typed: bool) -> str:
    """``%s`` for each value; with its type on the first row of a ``VALUES`` list (the
    later rows take their types from it)."""
    return ", ".join(f"%s::{kind}" if typed else "%s" for kind in kinds)
