"""Plots of event streams, for the notebooks.

Each plot comes in two parts: a ``*_data`` function that computes exactly what will be
drawn (a DataFrame, tested on its own, since nbval does not compare images) and a
``plot_*`` function that draws it and returns a matplotlib Figure. Figures are made
without pyplot, so a notebook shows each one exactly once, where it is returned
(importing this module tells IPython how to draw them).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from mallbots.es.duckdb.log import EventLog
from mallbots.es.time_travel import HISTORY_EVENT_COLUMNS
from mallbots.viz.palette import (
    MAX_SERIES,
    colours_for,
    in_legend_order,
    series_groups,
    short_label,
)

WIDTH = 7.2
"""Inches of a plot's axes: with its labels and a legend beside it, a figure stays
under about 950 pixels at the notebooks' 100 dpi, the width of JupyterLab's column."""

MODE_COLOURS = ("#4c72b0", "#dd8452", "#55a868", "#8172b3")
"""Colours of ways of doing something (with or without a snapshot ...), not event types."""


def show_figures_inline(shell: Any = None) -> bool:
    """Let IPython draw a returned Figure as a PNG (pyplot would register this; we skip pyplot).

    Called when this module is imported; returns whether a shell was found.
    """
    try:
        from IPython import get_ipython
        from IPython.core.pylabtools import print_figure
    except ImportError:  # pragma: no cover - IPython comes with the notebooks' extras
        return False
    shell = shell or get_ipython()
    if shell is None:
        return False
    formatter = shell.display_formatter.formatters["image/png"]
    formatter.for_type(Figure, lambda figure: print_figure(figure, "png", bbox_inches="tight"))
    return True


show_figures_inline()


def _figure(size: tuple[float, float]):
    figure = Figure(figsize=size)
    return figure, figure.subplots()


def _nothing_to_draw(title: str, why: str) -> Figure:
    """A small figure that says why it is empty, for a plot of no data."""
    figure, axes = _figure((6, 2))
    axes.text(0.5, 0.5, why, ha="center", va="center", color="#666666")
    axes.set_axis_off()
    axes.set_title(title)
    return figure


def _dates_on_x(axes: Any) -> None:
    """Short date labels on the x axis that never run into each other.

    A tick that marks a day names its month ("08 Mar", not "08" beside a corner label
    naming the last month on the axis), so a span across months reads at a glance.
    """
    locator = AutoDateLocator()
    formatter = ConciseDateFormatter(locator)
    formatter.formats[2] = formatter.zero_formats[2] = "%d %b"
    formatter.offset_formats[2] = "%Y"
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(formatter)


def _legend_beside(axes: Any, *, stacked: bool = False) -> None:
    """The legend to the right of the plot, where it hides no data (none if nothing is
    drawn: an empty log). For ``stacked`` bars it lists the top of the stack first."""
    handles, labels = axes.get_legend_handles_labels()
    if not handles:
        return
    if stacked:
        handles, labels = handles[::-1], labels[::-1]
    axes.legend(
        handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, fontsize=8
    )


# --- timeline of events per stream -----------------------------------------------------------


GIVEN_NAME_SQL = (
    "arg_max(event_data->>'$.name', position) FILTER (WHERE event_data->>'$.name' IS NOT NULL)"
)
"""A stream's name as its events last gave it (a store's, a product's), grouped by stream."""


def stream_names(log: EventLog) -> dict[tuple[str, str], str]:
    """The name of every stream whose events give it one, by (stream name, stream id)."""
    rows = log.database.execute(
        f"SELECT stream_name, stream_id, {GIVEN_NAME_SQL} FROM ({log.sql()}) "
        "WHERE event_data->>'$.name' IS NOT NULL GROUP BY stream_name, stream_id"
    ).fetchall()
    return {(stream_name, stream_id): name for stream_name, stream_id, name in rows}


def timeline_data(
    log: EventLog, max_streams: int = 25, stream_name: str | None = None
) -> pd.DataFrame:
    """The events of the first ``max_streams`` streams (by first appearance), one row each.

    Columns: position, occurred_at, stream_version, stream (a label: the stream's type
    and its name where its events give it one, a store's or product's latest, else its
    id; ids longer than 16 characters are cut to 8 and an ellipsis, unless that would
    give two streams one label), row (the stream's line on the plot, 0 at the top) and
    event_name.
    """
    where = "" if stream_name is None else "WHERE stream_name = $2"
    parameters: list = [max_streams] if stream_name is None else [max_streams, stream_name]
    data = log.database.execute(
        f"""
        WITH log AS (SELECT * FROM ({log.sql()}) {where}),
        firsts AS (
            SELECT stream_name, stream_id, min(position) AS first_position,
                   {GIVEN_NAME_SQL} AS given_name
            FROM log GROUP BY stream_name, stream_id ORDER BY first_position LIMIT $1
        ),
        picked AS (
            SELECT *, row_number() OVER (ORDER BY first_position) - 1 AS row FROM firsts
        )
        SELECT log.position, log.occurred_at, log.stream_version,
               split_part(log.stream_name, '.', 2) AS kind, log.stream_id,
               picked.given_name, picked.row, log.event_name
        FROM log JOIN picked USING (stream_name, stream_id)
        ORDER BY log.position
        """,
        parameters,
    ).df()
    streams = data.drop_duplicates("row").set_index("row")
    named = streams["given_name"].notna()
    names = streams["given_name"].where(named, "").map(_short_name)
    short = streams["kind"] + " " + names.where(named, streams["stream_id"].map(_short_id))
    full = streams["kind"] + " " + names.where(named, streams["stream_id"])
    full = full.where(~named, full + " (" + streams["stream_id"].map(_short_id) + ")")
    labels = short.where(~short.duplicated(keep=False), full)
    data.insert(3, "stream", data["row"].map(labels))
    return data.drop(columns=["kind", "stream_id", "given_name"])


def _short_name(name: str) -> str:
    """A name of up to 24 characters whole, a longer one cut with an ellipsis."""
    return name if len(name) <= 24 else name[:23] + "…"


def _short_id(stream_id: str) -> str:
    """Ids of up to 16 characters whole, longer ones (UUIDs) cut to 8 and an ellipsis."""
    return stream_id if len(stream_id) <= 16 else stream_id[:8] + "…"


TIMELINE_AXES = {
    "position": "log position",
    "occurred_at": "time the event occurred",
    "stream_version": "event number in its stream",
}
"""What :func:`plot_timeline` can put on its x axis, with the axis label."""


def plot_timeline(data: pd.DataFrame, x: str = "position", title: str | None = None) -> Figure:
    """Each stream a line, each event a dot coloured by its name.

    ``x`` is a column of :data:`TIMELINE_AXES`. Dots are drawn in the order the events
    happened, so where two overlap, the later one (a stream's last event, say) shows.
    """
    if x not in TIMELINE_AXES:
        raise ValueError(f"x must be one of {', '.join(TIMELINE_AXES)}, not {x!r}")
    streams = data.drop_duplicates("row").sort_values("row")
    height = max(2.5, 0.32 * len(streams) + 1.2)
    figure, axes = _figure((WIDTH, height))
    colours = colours_for(data["event_name"])
    dot = {"s": 36, "edgecolor": "white", "linewidth": 0.5, "zorder": 3}
    in_order = data.sort_values("position")
    axes.scatter(
        in_order[x], in_order["row"], color=[colours[n] for n in in_order["event_name"]], **dot
    )
    for name in colours:  # the legend's entries, by module: one empty scatter per name
        axes.scatter([], [], color=colours[name], label=short_label(name), **dot)
    for row in streams["row"]:
        axes.axhline(row, color="#dddddd", linewidth=0.8, zorder=1)
    axes.set_yticks(list(streams["row"]), list(streams["stream"]))
    axes.invert_yaxis()
    if x == "occurred_at":
        _dates_on_x(axes)
    else:
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel(TIMELINE_AXES[x])
    axes.set_title(title or "Events per stream, coloured by type")
    _legend_beside(axes)
    figure.tight_layout()
    return figure


# --- stream lengths ----------------------------------------------------------------------------


def stream_length_data(log: EventLog) -> pd.DataFrame:
    """One row per stream: its type (short name) and how many events it holds."""
    return log.database.execute(
        f"""
        SELECT split_part(stream_name, '.', 2) AS stream_type, stream_id, count(*) AS events
        FROM ({log.sql()}) GROUP BY ALL ORDER BY stream_type, stream_id
        """
    ).df()


def plot_stream_lengths(data: pd.DataFrame, title: str | None = None) -> Figure:
    """The distribution of stream lengths, one panel per stream type."""
    if data.empty:
        return _nothing_to_draw(title or "How long do streams grow?", "no streams yet")
    types = sorted(data["stream_type"].unique())
    columns = min(len(types), 2)  # four panels in a row were 1,380 pixels wide
    rows = -(-len(types) // columns)
    figure = Figure(figsize=(3.7 * columns + 0.6, 2.6 * rows + 0.5))
    panels = figure.subplots(rows, columns, squeeze=False)
    for axes in panels.flat[len(types) :]:
        axes.set_axis_off()
    for axes, stream_type in zip(panels.flat, types, strict=False):
        lengths = data.loc[data["stream_type"] == stream_type, "events"]
        bins = range(1, int(lengths.max()) + 2)
        axes.hist(lengths, bins=bins, color=MODE_COLOURS[0], edgecolor="white", align="left")
        axes.set_title(f"{stream_type} ({len(lengths)} streams)")
        axes.set_xlabel("events in the stream")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    for row in panels:
        row[0].set_ylabel("streams")
    figure.suptitle(title or "How long do streams grow?")
    figure.tight_layout()
    return figure


# --- events over time --------------------------------------------------------------------------


BUCKETS = {"minute": "min", "hour": "h", "day": "D", "week": "W-MON"}
"""The time buckets of :func:`events_over_time_data`, with their pandas frequencies
(DuckDB's weeks start on Monday)."""


def events_over_time_data(log: EventLog, bucket: str = "day") -> pd.DataFrame:
    """Counts of each event name per time bucket, as a wide table (bucket x event name).

    Every bucket from the first event's to the last's has a row, a quiet one all zeros,
    so a plot of it keeps time to scale.
    """
    if bucket not in BUCKETS:
        raise ValueError(f"bucket must be one of {', '.join(BUCKETS)}")
    long = log.database.execute(
        f"""
        SELECT date_trunc('{bucket}', occurred_at) AS bucket, event_name, count(*) AS events
        FROM ({log.sql()}) GROUP BY ALL ORDER BY ALL
        """
    ).df()
    wide = long.pivot_table(index="bucket", columns="event_name", values="events", fill_value=0)
    wide.columns.name = None
    if len(wide):
        every = pd.date_range(wide.index.min(), wide.index.max(), freq=BUCKETS[bucket])
        wide = wide.reindex(every, fill_value=0).rename_axis("bucket")
    return wide.astype(int)


MAX_BARS = 2_000
"""The most buckets :func:`plot_events_over_time` draws: beyond, bars are thinner than a
pixel and drawing them takes minutes."""


def stacked_series(data: pd.DataFrame, max_series: int = MAX_SERIES) -> pd.DataFrame:
    """The series a stacked plot of ``data`` (bucket x event name) draws, in legend
    order: at most ``max_series``, a module's rarest types summed as "baskets (other)"."""
    groups = series_groups(data.sum().to_dict(), max_series)
    series = data.T.groupby(lambda name: groups[name]).sum().T
    return series[in_legend_order(series.columns)].astype(int)


def plot_events_over_time(data: pd.DataFrame, title: str | None = None) -> Figure:
    """Stacked bars: how many events of each type each bucket of time saw.

    At most :data:`~mallbots.viz.palette.MAX_SERIES` series (:func:`stacked_series`);
    the legend lists them by module, from the top of the stack down.
    """
    if len(data) > MAX_BARS:
        raise ValueError(
            f"{len(data):,} buckets are too many bars to draw (at most {MAX_BARS:,}): "
            "choose a longer bucket, such as 'hour' or 'day'"
        )
    series = stacked_series(data)
    figure, axes = _figure((WIDTH, 3.6))
    colours = colours_for(series.columns)
    bottom = pd.Series(0, index=series.index)
    labels = _bucket_labels(series.index)
    positions = range(len(series.index))
    for name in reversed(series.columns):  # the legend's first at the top of the stack
        axes.bar(
            positions, series[name], bottom=bottom, color=colours[name], label=short_label(name)
        )
        bottom = bottom + series[name]
    step = max(1, -(-len(labels) // 8))  # at most 8 labels: they fit the narrower figure
    axes.set_xticks(list(positions)[::step], labels[::step], rotation=30, ha="right")
    axes.set_ylabel("events")
    axes.set_title(title or "Events per type over time")
    _legend_beside(axes, stacked=True)
    figure.tight_layout()
    return figure


def _bucket_labels(buckets: pd.Index) -> list[str]:
    """A date per bucket, with the time of day where buckets are shorter than a day."""
    if not isinstance(buckets, pd.DatetimeIndex):
        return [str(bucket) for bucket in buckets]
    daily = bool((buckets == buckets.normalize()).all())
    return [bucket.strftime("%Y-%m-%d" if daily else "%Y-%m-%d %H:%M") for bucket in buckets]


# --- snapshots and projections -----------------------------------------------------------------


def plot_load_times(data: pd.DataFrame, title: str | None = None) -> Figure:
    """Load time against stream length, one line per way of loading.

    ``data`` has columns ``length``, ``mode`` and ``ms`` (see ``mallbots.viz.measure``).
    """
    figure, axes = _figure((WIDTH, 3.8))
    for n, (mode, rows) in enumerate(data.groupby("mode", sort=True)):
        rows = rows.sort_values("length")
        colour = MODE_COLOURS[n % len(MODE_COLOURS)]
        axes.plot(rows["length"], rows["ms"], marker="o", label=mode, color=colour)
    axes.set_xlabel("events in the stream")
    axes.set_ylabel("load time (ms, fastest of the runs)")
    axes.set_title(title or "Loading an aggregate: with and without a snapshot")
    axes.legend(frameon=False)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def projection_lag_data(data: pd.DataFrame) -> pd.DataFrame:
    """``data`` (columns ``step``, ``projection``, ``head``, ``position``) with its
    ``lag``: how many positions each projection is behind the head of the log."""
    lagging = data.sort_values(["projection", "step"]).reset_index(drop=True)
    lagging["lag"] = lagging["head"] - lagging["position"]
    return lagging


def plot_projection_lag(data: pd.DataFrame, title: str | None = None) -> Figure:
    """How far behind the head of the log each projection is, step by step.

    ``data`` has columns ``step``, ``projection``, ``head`` and ``position``; the lines
    are :func:`projection_lag_data`'s ``lag``: 0 is caught up.
    """
    lagging = projection_lag_data(data)
    figure, axes = _figure((WIDTH, 3.4))
    for n, (name, rows) in enumerate(lagging.groupby("projection", sort=True)):
        # Drawn as steps: between two steps nothing moves.
        colour = MODE_COLOURS[n % len(MODE_COLOURS)]
        axes.step(rows["step"], rows["lag"], where="post", label=name, color=colour)
    axes.axhline(0, color="black", linewidth=0.8, alpha=0.5)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("step")
    axes.set_ylabel("events behind the head")
    axes.set_title(title or "How far each projection is behind the head of the log")
    axes.legend(frameon=False)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def plot_rebuild_times(data: pd.DataFrame, title: str | None = None) -> Figure:
    """Rebuild time per read model, one bar per way of rebuilding.

    ``data`` has columns ``projection``, ``mode`` and ``ms`` (see
    ``mallbots.viz.measure.rebuild_times``); each bar is labelled with its time.
    """
    title = title or "Rebuilding read models: event by event, or in one SQL pass"
    if data.empty:
        return _nothing_to_draw(title, "no read models measured")
    projections = list(dict.fromkeys(data["projection"]))
    modes = list(dict.fromkeys(data["mode"]))
    height = 0.8 / len(modes)
    figure, axes = _figure((WIDTH, 0.4 * len(projections) * len(modes) + 1.2))
    for i, mode in enumerate(modes):
        rows = data[data["mode"] == mode].set_index("projection").reindex(projections)
        places = [n + i * height for n in range(len(projections))]
        colour = MODE_COLOURS[i % len(MODE_COLOURS)]
        bars = axes.barh(places, rows["ms"], height=height, label=mode, color=colour)
        axes.bar_label(bars, labels=[f"{ms:,.0f} ms" for ms in rows["ms"]], padding=3, fontsize=8)
    axes.set_yticks([n + height * (len(modes) - 1) / 2 for n in range(len(projections))])
    axes.set_yticklabels(projections)
    axes.invert_yaxis()
    axes.margins(x=0.15)
    axes.set_xlabel("rebuild time (ms, fastest of the runs)")
    axes.set_title(title)
    axes.legend(frameon=False, loc="lower right")
    figure.tight_layout()
    return figure


# --- one field of an aggregate through its history -------------------------------------------


def state_history_data(history: pd.DataFrame, field: str) -> pd.DataFrame:
    """``field`` after each event of an aggregate's history (``shop.history(...)``).

    Columns: version, occurred_at, event (the name without its module), value and
    event_name (the whole name, which picks the dot's colour).
    """
    if field not in history.columns:
        raise ValueError(f"the history has no field {field!r}; it has {list(history.columns)}")
    if not history[field].map(_is_number).all():
        numeric = [
            name
            for name in history.columns
            if name not in HISTORY_EVENT_COLUMNS and history[name].map(_is_number).all()
        ]
        raise ValueError(
            f"{field!r} is not a number at every version, so it cannot be drawn; "
            f"the numeric fields are: {', '.join(numeric) or 'none'}"
        )
    data = history[["version", "occurred_at", "event", field]].rename(columns={field: "value"})
    data["event_name"] = data["event"]
    data["event"] = data["event"].str.split(".").str[-1]
    return data.reset_index(drop=True)


def _is_number(value: Any) -> bool:
    """Whether a state history can draw ``value`` (a flag counts: it steps between 0 and 1)."""
    return isinstance(value, (int, float, Decimal))


def plot_state_history(
    data: pd.DataFrame,
    label: str,
    title: str | None = None,
    moment: Any = None,
) -> Figure:
    """A step line of the value over time (it holds until the next event changes it),
    each event a dot coloured by its name; ``moment`` is marked with a dashed line and
    the value that held then (the last event at or before it)."""
    figure, axes = _figure((WIDTH, 3.4))
    times, values = list(data["occurred_at"]), [float(v) for v in data["value"]]
    axes.step(times, values, where="post", color="#555555", linewidth=1.5, zorder=2)
    names = data["event_name"] if "event_name" in data else data["event"]
    colours = colours_for(names)
    for name in colours:
        events = data[names == name]
        axes.scatter(
            events["occurred_at"],
            [float(v) for v in events["value"]],
            s=44,
            color=colours[name],
            label=short_label(name),
            zorder=3,
            edgecolor="white",
            linewidth=0.6,
        )
    if moment is not None:
        axes.axvline(moment, color="#222222", linestyle="--", linewidth=1.2, zorder=1)
        before = data[data["occurred_at"] <= moment]
        if len(before):
            value = before["value"].iloc[-1]
            axes.plot([moment], [float(value)], marker="o", color="#222222", zorder=4)
            axes.annotate(
                f"{value} at version {before['version'].iloc[-1]}",
                (moment, float(value)),
                xytext=(6, -14),
                textcoords="offset points",
                color="#222222",
                fontsize=9,
            )
    _dates_on_x(axes)
    axes.margins(y=0.12)
    axes.set_xlabel("time the event occurred")
    axes.set_ylabel(label)
    axes.set_title(title or f"{label}, event by event")
    axes.grid(alpha=0.3)
    _legend_beside(axes)
    figure.tight_layout()
    return figure
