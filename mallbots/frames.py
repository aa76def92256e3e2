"""DataFrames that keep money exact (see :mod:`mallbots.es.frames`)."""

from mallbots.es.frames import exact_frame, result_frame

__all__ = ["exact_frame", "result_frame"]
