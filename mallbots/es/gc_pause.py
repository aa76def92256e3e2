"""Pausing Python's cyclic garbage collector while events are decoded in bulk.

Decoding a long stream or a page of the log creates tens of thousands of objects
(events, payloads, strings), none of them in reference cycles. With the collector on,
every 700 allocations start a collection that walks the young objects still alive,
and every few of those walk older ones too: a third of the time of loading a
10,000-event stream, measured. Reference counting still frees everything while the
collector is paused; it runs again as soon as the pause ends.

The collector is process-wide: while one thread decodes, no thread collects cycles.
A pause is short (milliseconds for a stream, a batch at a time for a catch-up).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block (if it is on), then resume it."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
