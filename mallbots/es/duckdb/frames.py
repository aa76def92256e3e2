"""DataFrames between DuckDB and pandas: results that keep money exact, rows to insert.

DuckDB's ``.df()`` turns ``DECIMAL`` columns into ``float64``, so a price of 9.99 would
show as the float nearest to it. :func:`exact_frame` keeps such columns as ``Decimal``
objects; results without decimals still take the fast columnar path.

The other way, :func:`frame_of_rows` gives a columnar INSERT its rows to select from.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import pandas as pd

from mallbots.es.duckdb.database import Database


def exact_frame(database: Database, sql: str, parameters: Any = None) -> pd.DataFrame:
    """The result of ``sql`` as a DataFrame, with ``DECIMAL`` columns as ``Decimal``."""
    result = database.execute(sql, parameters)
    return result_frame(result)


def result_frame(result: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """An executed result as a DataFrame, with ``DECIMAL`` columns as ``Decimal``."""
    description = result.description or []
    if not any(str(column[1]).startswith("DECIMAL") for column in description):
        return result.df()
    return pd.DataFrame(result.fetchall(), columns=[column[0] for column in description])


def frame_of_rows(rows: Sequence[Sequence[Any]], columns: Sequence[str]) -> pd.DataFrame:
    """Rows (at least one) as a DataFrame for an INSERT to select from, by column.

    Text stays as Python strings. With pyarrow installed, pandas 3 would copy every
    string into Arrow first: a bulk writer's thread then held Python's lock nearly twice
    as long per batch, slowing the thread that records the next batch.
    """
    by_column = zip(*rows, strict=True)
    return pd.DataFrame(
        {name: _column(values) for name, values in zip(columns, by_column, strict=True)}
    )


def _column(values: tuple[Any, ...]) -> pd.Series | tuple[Any, ...]:
    return pd.Series(values, dtype=object) if isinstance(values[0], str) else values
