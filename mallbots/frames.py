"""DataFrames that keep money exact (see :mod:`mallbots.es.duckdb.frames`)."""

from mallbots.es.duckdb.frames import exact_frame, result_frame

__all__ = ["exact_frame", "result_frame"]
