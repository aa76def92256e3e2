"""What the run prints: the machine, then the figures as Markdown tables.

Ratios are oriented so that > 1 always means MallBots is better: a rate is divided by
the peer's rate, a duration divides the peer's duration.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata

from benchmarks.timing import Trials, alternate, median, spread
from benchmarks.workloads import Workload

FLOOR_TARGET = 0.8
"""Issue target: workloads 1 and 5 (5c: cached) reach at least 0.8 of DuckDB's one-row INSERT
(P1 and P5 of PostgreSQL's)."""
DUCKDB_FLOOR = (
    "Against DuckDB's own inserts into a file table shaped like ours: one-row "
    "INSERTs (1, 5 and 5c), an appender flush of the same rows ready-made (F)"
)


@dataclass
class Result:
    """The figures of one workload, side by side name -> trial figures."""

    workload: Workload
    figures: dict[str, list[float]]

    def median(self, side: str) -> float | None:
        values = self.figures.get(side)
        return median(values) if values else None

    def ratio(self, side: str, other: str) -> float | None:
        """``side`` against ``other``, > 1 when ``side`` is better."""
        mine, theirs = self.median(side), self.median(other)
        if mine is None or theirs is None:
            return None
        return mine / theirs if self.workload.higher_is_better else theirs / mine


def measure(workload: Workload, makers: Mapping[str, Callable[[], Trials]], rounds: int) -> Result:
    """Start each side's trials, alternate them for ``rounds`` rounds, print the medians."""
    trials: dict[str, Trials] = {}
    try:
        for name, make in makers.items():
            trials[name] = make()
        figures = alternate(trials, min(rounds, workload.rounds or rounds))
    finally:
        for generator in trials.values():
            generator.close()
    result = Result(workload, figures)
    summary = ", ".join(f"{name} {figure(result.median(name), workload.unit)}" for name in figures)
    print(f"{workload.title}: {summary} {workload.unit}", flush=True)
    return result


def machine() -> list[str]:
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return [
        f"cores (nproc): {len(os.sched_getaffinity(0))}, CPU: {model}",
        f"Python {platform.python_version()} ({sys.implementation.name}), "
        f"{platform.system()} {platform.release()}",
        f"duckdb {_version('duckdb')}, eventsourcing {_version('eventsourcing')}",
        "load average (1, 5, 15 min) at start: "
        + ", ".join(f"{load:.2f}" for load in os.getloadavg())
        + " (other work on the machine inflates every figure; the ratios less so)",
    ]


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def figure(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ms":
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    return f"{value:,.0f}"


def ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def tables(
    results: list[Result],
    sides: list[str],
    floor: str | Sequence[str],
    quick: bool = False,
    floor_note: str = DUCKDB_FLOOR,
) -> str:
    """The comparison, the floor (or floors, side by side) and the targets (full sizes
    only), as Markdown."""
    mallbots, *peers = sides
    lines = []
    header = ["workload", "unit", mallbots, *peers]
    header += [f"{mallbots} / {peer}" for peer in peers]
    header += ["spread"]
    lines += _row(header), _row(["---"] * len(header))
    for result in results:
        unit = result.workload.unit
        cells = [result.workload.title, unit]
        cells += [figure(result.median(side), unit) for side in sides]
        cells += [ratio(result.ratio(mallbots, peer)) for peer in peers]
        measured = [s for s in sides if s in result.figures]
        cells.append(" / ".join(f"{spread(result.figures[s]):.0%}" for s in measured))
        lines.append(_row(cells))
    lines.append("")
    lines.append(
        "spread: interquartile range / median of each side's trials (MallBots first). "
        "Ratios > 1 mean MallBots is better."
    )

    floors = [floor] if isinstance(floor, str) else list(floor)
    floored = [r for r in results if r.workload.against_floor and r.median(floors[0]) is not None]
    if floored:
        lines += ["", f"{floor_note}; target >= {FLOOR_TARGET}x:", ""]
        header = ["workload", mallbots]
        for name in floors:
            header += [f"{name} rows/s", "ratio", "target met"]
        lines += [_row(header), _row(["---"] * len(header))]
        for result in floored:
            cells = [
                result.workload.title,
                f"{figure(result.median(mallbots), '')} {result.workload.unit}",
            ]
            for name in floors:
                share = result.median(mallbots) / result.median(name)
                cells += [
                    figure(result.median(name), ""),
                    ratio(share),
                    "yes" if share >= FLOOR_TARGET else "no",
                ]
            lines.append(_row(cells))

    against_peer = [r for r in results if r.workload.peer_target is not None and peers]
    if against_peer and quick:
        lines += ["", "Ratio targets against the peer: not judged on the quick run's small sizes."]
    elif against_peer:
        peer = peers[0]
        lines += ["", f"Ratio targets, {mallbots} / {peer}:", ""]
        lines += [_row(["workload", "ratio", "target", "met"]), _row(["---"] * 4)]
        for result in against_peer:
            share = result.ratio(mallbots, peer)
            target = result.workload.peer_target
            met = "-" if share is None else ("yes" if target.met_by(share) else "no")
            lines.append(_row([result.workload.title, ratio(share), f"{target}x", met]))

    targeted = [r for r in results if r.workload.target is not None]
    if targeted and quick:
        lines += ["", "MallBots' own targets: not judged on the quick run's small sizes."]
    elif targeted:
        lines += ["", "MallBots' own targets:", ""]
        lines += [_row(["figure", mallbots, "target", "met"]), _row(["---"] * 4)]
        for result in targeted:
            target, value = result.workload.target, result.median(mallbots)
            lines.append(
                _row(
                    [
                        result.workload.title,
                        f"{figure(value, result.workload.unit)} {result.workload.unit}",
                        f"{target} {result.workload.unit}",
                        "yes" if target.met_by(value) else "no",
                    ]
                )
            )
    return "\n".join(lines)


def ceiling_table(results: list[Result], mallbots: str, ceiling: str, floor: str) -> str:
    """Each workload measured on ``ceiling`` (the least work that workload can be): what
    share of it MallBots reaches, and what share of ``floor`` it reaches itself."""
    bounded = [r for r in results if r.median(ceiling) is not None]
    if not bounded:
        return ""
    header = ["workload", mallbots, ceiling, f"{mallbots} / it", f"it / {floor}"]
    lines = [_row(header), _row(["---"] * len(header))]
    for result in bounded:
        unit = result.workload.unit
        lines.append(
            _row(
                [
                    result.workload.title,
                    f"{figure(result.median(mallbots), unit)} {unit}",
                    f"{figure(result.median(ceiling), unit)} {unit}",
                    ratio(result.ratio(mallbots, ceiling)),
                    ratio(result.ratio(ceiling, floor)),
                ]
            )
        )
    return "\n".join(lines)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"
