"""Trials, alternation and medians.

A *trial* is one timed run of a workload on one side; it returns one figure (a rate
or a duration). Each side implements a workload as a generator: it prepares what it
needs (a database, a filled log), then yields one figure per ``next()``, and cleans up
when closed. That lets :func:`alternate` interleave the sides round by round, so a
burst of noise on this shared 2-core machine hits both sides instead of one.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

Trials = Iterator[float]
"""A side's workload: yields one figure per trial."""

clock = time.perf_counter


def per_second(count: int, seconds: float) -> float:
    """A rate, guarded against a zero-length interval on a coarse clock."""
    return count / max(seconds, 1e-9)


def milliseconds(seconds: float) -> float:
    return seconds * 1000.0


def timed(action: Callable[[], object]) -> float:
    """Seconds taken by ``action()``."""
    start = clock()
    action()
    return clock() - start


def load_trials(load: Callable[[], Any], loads: int, check: Callable[[Any], bool]) -> Trials:
    """Milliseconds per ``load()``, the mean of ``loads`` calls a round; ``check`` must
    accept what the last call returned."""
    while True:
        start = clock()
        for _ in range(loads):
            loaded = load()
        elapsed = clock() - start
        assert check(loaded), loaded
        yield milliseconds(elapsed / loads)


def command_trials(
    load: Callable[[Any], Any],
    save: Callable[[Any], object],
    ids: Sequence[Any],
    commands: int,
    deposit: Any,
) -> Trials:
    """Commands a second: load an account (the ids in turn), deposit, save it."""
    while True:
        start = clock()
        for i in range(commands):
            account = load(ids[i % len(ids)])
            account.deposit(deposit)
            save(account)
        yield per_second(commands, clock() - start)


def alternate(trials: Mapping[str, Trials], rounds: int, warmup: int = 1) -> dict[str, list[float]]:
    """Run every side's trials in turns, ``rounds`` times, after ``warmup`` discarded turns.

    The side that goes first rotates every round, so no side always runs on a machine
    just warmed (or just cluttered) by the other. The garbage of one trial is collected
    before the next, outside the timing.
    """
    names = list(trials)
    for _ in range(warmup):
        for name in names:
            gc.collect()
            next(trials[name])
    figures: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(rounds):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            figures[name].append(next(trials[name]))
    return figures


def median(figures: list[float]) -> float:
    return statistics.median(figures)


def spread(figures: list[float]) -> float:
    """The interquartile range relative to the median (0.1 = 10%), a noise gauge."""
    if len(figures) < 4:
        return (max(figures) - min(figures)) / median(figures) if figures else 0.0
    q1, _, q3 = statistics.quantiles(figures, n=4)
    return (q3 - q1) / median(figures)
