"""The table of workloads: what is measured, at what size, in what unit, against what target.

Every row names a workload by key; each side (:mod:`benchmarks.mallbots_side`,
:mod:`benchmarks.peer_side`, :mod:`benchmarks.duckdb_floor`) implements the keys it
can in its ``TRIALS`` table, as a generator taking the row's parameters. The runner
measures a row on every side that implements it, alternating between them.

Adding a workload is: one :class:`Workload` row here, one generator per side.

**Rebuilding the catalog** (7 and 8) is measured twice per size: MallBots' per-event
catch-up and its set-based rebuild, each against the peer's one way (its notification
log read in pages and applied to a dict). Both sides read the same events
(:mod:`benchmarks.catalog_log`). The 1,000,000-event rows run at most 3 rounds.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Target:
    """A figure the issue asks MallBots to reach, such as ``>= 100,000 events/s``."""

    comparison: str  # ">=" or "<="
    value: float

    def met_by(self, figure: float) -> bool:
        compare = operator.ge if self.comparison == ">=" else operator.le
        return compare(figure, self.value)

    def __str__(self) -> str:
        return f"{self.comparison} {self.value:,g}"


@dataclass(frozen=True)
class Workload:
    key: str
    title: str
    unit: str
    higher_is_better: bool
    params: dict[str, Any]
    quick: dict[str, Any]
    target: Target | None = None
    """MallBots' own target (independent of the peer), if the issue sets one."""
    against_floor: bool = False
    """Also compare MallBots with DuckDB's own inserts (:mod:`benchmarks.duckdb_floor`)."""
    peer_target: Target | None = None
    """The ratio MallBots / peer the issue asks for, if it sets one."""
    rounds: int | None = None
    """At most this many timed rounds (a long workload), whatever the run asks."""
    notes: tuple[str, ...] = field(default=())


WORKLOADS: list[Workload] = [
    Workload(
        key="append_one",
        title="1. append one event to a new stream, one call at a time",
        unit="events/s",
        higher_is_better=True,
        params={"appends": 1000},
        quick={"appends": 30},
        against_floor=True,
    ),
    Workload(
        key="append_threads",
        title="2. 60 appends of 500 events to new streams, 4 threads",
        unit="events/s",
        higher_is_better=True,
        params={"appends": 60, "events": 500, "threads": 4},
        quick={"appends": 8, "events": 50, "threads": 4},
        peer_target=Target(">=", 1),
    ),
    Workload(
        key="read_log",
        title="3. read the whole log in pages of 1,000 (decoded events)",
        unit="events/s",
        higher_is_better=True,
        params={"events": 100_000, "page": 1000},
        quick={"events": 2000, "page": 500},
        peer_target=Target(">=", 1),
    ),
    Workload(
        key="load_no_snapshot",
        title="4a. load a 10,000-event aggregate, no snapshot",
        unit="ms",
        higher_is_better=False,
        params={"events": 10_000, "loads": 5},
        quick={"events": 500, "loads": 2},
        target=Target("<=", 40),
        peer_target=Target(">=", 5),
    ),
    Workload(
        key="load_snapshot",
        title="4b. load a 10,000-event aggregate, with a snapshot",
        unit="ms",
        higher_is_better=False,
        params={"events": 10_000, "loads": 100},
        quick={"events": 500, "loads": 5},
        target=Target("<=", 1),
    ),
    Workload(
        key="commands",
        title="5. load, change, save a small aggregate, repeatedly",
        unit="commands/s",
        higher_is_better=True,
        params={"aggregates": 100, "commands": 500},
        quick={"aggregates": 5, "commands": 20},
        against_floor=True,
    ),
    Workload(
        key="commands_cached",
        title="5c. load, change, save a small aggregate, with each side's aggregate cache",
        unit="commands/s",
        higher_is_better=True,
        params={"aggregates": 100, "commands": 500},
        quick={"aggregates": 5, "commands": 20},
        against_floor=True,
        notes=(
            "MallBots: AggregateCache in front of the store, each command run by "
            "AggregateRepository.update; eventsourcing: its repository cache without "
            "fast-forward (AGGREGATE_CACHE_FASTFORWARD=n), so neither reads the database "
            "for a load once the aggregate is in memory. On PostgreSQL MallBots' save "
            "checks the copy and update runs the command again if it was stale; the "
            "peer's save refuses a stale copy.",
        ),
    ),
    Workload(
        key="save_500",
        title="F. save 500 events to a new stream, one call",
        unit="events/s",
        higher_is_better=True,
        params={"saves": 20, "events": 500},
        quick={"saves": 3, "events": 50},
        target=Target(">=", 100_000),
        against_floor=True,
    ),
    *(
        Workload(
            key=key,
            title=f"{number}{letter}. rebuild the catalog from {size:,} events, {how}",
            unit="events/s",
            higher_is_better=True,
            params={"events": size},
            quick={"events": quick},
            peer_target=Target(">=", 10),
            rounds=rounds,
        )
        for number, size, quick, rounds in ((7, 100_000, 2_000, None), (8, 1_000_000, 5_000, 3))
        for letter, key, how in (
            ("a", "catalog_rebuild", "MallBots per event (catch-up)"),
            ("b", "catalog_rebuild_set_based", "MallBots set-based (SQL)"),
        )
    ),
]
"""Measured on every run, in this order."""


def by_key(keys: list[str] | None) -> list[Workload]:
    """The workloads named by ``keys`` (all when None), in table order."""
    if not keys:
        return list(WORKLOADS)
    known = {w.key for w in WORKLOADS}
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise ValueError(f"unknown workload(s) {unknown}; known: {sorted(known)}")
    return [w for w in WORKLOADS if w.key in keys]
