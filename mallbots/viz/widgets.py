"""Interactive widgets for the notebooks.

Every widget shows its results in ``ipywidgets.HTML`` panes rather than output areas,
so what it shows is part of its state: a test can set a control and read the pane.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import ipywidgets as widgets
import pandas as pd

from mallbots.es.aggregate import Aggregate
from mallbots.es.events import AggregateEvent
from mallbots.es.log import EventLog
from mallbots.es.projection import Projection
from mallbots.es.time_travel import read_model_at

TABLE_STYLE = (
    "<style>.mb-table td,.mb-table th{padding:2px 8px;text-align:left;"
    "border-bottom:1px solid #eee}.mb-table th{color:#555}</style>"
)


def frame_html(frame: pd.DataFrame, caption: str | None = None, max_rows: int = 30) -> str:
    """A DataFrame as a compact HTML table (with a caption and a row count)."""
    shown = frame.head(max_rows).to_html(index=False, classes="mb-table", border=0)
    more = (
        f"<div style='color:#888'>… {len(frame) - max_rows} more rows</div>"
        if len(frame) > max_rows
        else ""
    )
    title = f"<div><b>{html.escape(caption)}</b> ({len(frame)} rows)</div>" if caption else ""
    return TABLE_STYLE + title + shown + more


def state_html(aggregate: Aggregate) -> str:
    """An aggregate's state as an HTML table."""
    return aggregate._repr_html_()


def event_html(event: AggregateEvent) -> str:
    """One event as HTML: name, stream, version, position, time and payload."""
    return event._repr_html_()


class StreamExplorer:
    """Pick a stream, scrub its versions, see the event and the state it produced.

    ``aggregate_types`` maps stream names (``stores.Store``) to aggregate classes; the
    streams offered are the log's streams of those types.
    """

    def __init__(self, log: EventLog, aggregate_types: Mapping[str, type[Aggregate]]) -> None:
        self.log = log
        self.aggregate_types = dict(aggregate_types)
        streams = log.streams()
        streams = streams[streams["stream_name"].isin(self.aggregate_types)]
        options = [
            (
                f"{row.stream_name} {row.stream_id} ({row.events} events)",
                (row.stream_name, row.stream_id),
            )
            for row in streams.itertuples()
        ]
        self.stream = widgets.Dropdown(options=options, description="stream")
        self.version = widgets.IntSlider(min=1, max=1, value=1, description="version")
        self.event_pane = widgets.HTML()
        self.state_pane = widgets.HTML()
        self._events: list[AggregateEvent] = []
        self.stream.observe(self._on_stream, names="value")
        self.version.observe(self._on_version, names="value")
        self.event_pane.add_class("mallbots-event")
        self.state_pane.add_class("mallbots-state")
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.stream, self.version]),
                widgets.HBox(
                    [
                        self._titled("the event", self.event_pane),
                        self._titled("the state after it", self.state_pane),
                    ]
                ),
            ]
        )
        self.widget.add_class("mallbots-explorer")
        if options:
            self._load(options[0][1])

    @staticmethod
    def _titled(title: str, pane: widgets.HTML) -> widgets.VBox:
        return widgets.VBox(
            [widgets.HTML(f"<b>{title}</b>"), pane], layout=widgets.Layout(width="50%")
        )

    def _on_stream(self, change: dict) -> None:
        self._load(change["new"])

    def _load(self, stream: tuple[str, str]) -> None:
        self._events = self.log.stream(*stream)
        last = len(self._events)
        # widen the range before moving the value, so the slider never clamps it
        self.version.max = max(last, self.version.value, 1)
        self.version.value = last
        self.version.min = 1
        self.version.max = max(last, 1)
        self._show(last)

    def _on_version(self, change: dict) -> None:
        self._show(change["new"])

    def aggregate_at(self, version: int) -> Aggregate:
        """The selected stream's aggregate after ``version`` events."""
        stream_name, stream_id = self.stream.value
        aggregate = self.aggregate_types[stream_name](stream_id)
        for event in self._events[:version]:
            aggregate.load_event(event)
        return aggregate

    def _show(self, version: int) -> None:
        if not self._events:
            self.event_pane.value = self.state_pane.value = "<i>no events</i>"
            return
        self.event_pane.value = event_html(self._events[version - 1])
        self.state_pane.value = state_html(self.aggregate_at(version))

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


class ReadModelViewer:
    """A read model as it stood at a chosen log position (replayed, the live one untouched)."""

    def __init__(self, projection: Projection, log: EventLog, start: int | None = None) -> None:
        self.projection = projection
        self.log = log
        head = log.head()
        self.position = widgets.IntSlider(
            min=0,
            max=head,
            value=head if start is None else start,
            description="position",
            continuous_update=False,
        )
        self.pane = widgets.HTML()
        self.position.observe(lambda change: self._show(change["new"]), names="value")
        self.widget = widgets.VBox([self.position, self.pane])
        self._show(self.position.value)

    def frames(self, position: int) -> dict[str, pd.DataFrame]:
        """Each table of the read model at ``position``."""
        return read_model_at(self.projection, self.log, position)

    def _show(self, position: int) -> None:
        self.pane.value = "".join(
            frame_html(frame, f"{table} at position {position}")
            for table, frame in self.frames(position).items()
        )

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
