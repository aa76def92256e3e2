"""DataFrames that keep money exact.

DuckDB's ``.df()`` turns ``DECIMAL`` columns into ``float64``, so a price of 9.99 would
show as the float nearest to it. :func:`exact_frame` keeps such columns as ``Decimal``
objects; results without decimals still take the fast columnar path.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from mallbots.es.database import Database


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
