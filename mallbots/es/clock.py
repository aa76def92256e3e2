"""Clocks: where events get the time they occurred.

The system clock is the default. A :class:`SteppingClock` moves a fixed step on every
reading, so a notebook or test produces the same timestamps on every run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]
"""A clock is any callable that returns an aware UTC datetime."""


def system_clock() -> datetime:
    """The wall-clock time, in UTC."""
    return datetime.now(UTC)


class SteppingClock:
    """A deterministic clock: starts at ``start`` and advances ``step`` per reading."""

    def __init__(
        self,
        start: datetime = datetime(2024, 1, 1, 9, 0, tzinfo=UTC),
        step: timedelta = timedelta(seconds=1),
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("the start of a SteppingClock must be timezone-aware")
        self._now = start.astimezone(UTC)
        self.step = step
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            now = self._now
            self._now = now + self.step
            return now

    def peek(self) -> datetime:
        """The time the next reading will return, without advancing."""
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Jump forward, for example to simulate the next day in a mall."""
        with self._lock:
            self._now += delta

    def advance_to(self, moment: datetime) -> None:
        """Jump forward to ``moment``; a moment already passed leaves the clock as it is."""
        with self._lock:
            self._now = max(self._now, moment.astimezone(UTC))

    def __repr__(self) -> str:
        return f"SteppingClock(next={self._now.isoformat()}, step={self.step})"
