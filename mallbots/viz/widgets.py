"""Interactive widgets for the notebooks.

Every widget shows its results in ``ipywidgets.HTML`` panes rather than output areas,
so what it shows is part of its state: a test can set a control and read the pane.
"""

from __future__ import annotations

import dataclasses
import html
import typing
from collections.abc import Collection, Mapping, Sequence
from types import NoneType, UnionType
from typing import Any

import ipywidgets as widgets
import pandas as pd

from mallbots.errors import DomainError
from mallbots.es.aggregate import Aggregate
from mallbots.es.duckdb.log import EventLog
from mallbots.es.events import AggregateEvent
from mallbots.es.projection import Projection
from mallbots.es.time_travel import read_model_at
from mallbots.viz.changes import ChangeTracker, TableChange, streams_of
from mallbots.viz.plots import stream_names
from mallbots.viz.values import event_html, scalar_text, state_html

TABLE_STYLE = (
    "<style>.mb-table td,.mb-table th{padding:2px 8px;text-align:left;"
    "border-bottom:1px solid #eee}.mb-table th{color:#555}</style>"
)


def frame_html(
    frame: pd.DataFrame, caption: str | None = None, max_rows: int = 30, max_chars: int = 90
) -> str:
    """A DataFrame as a compact HTML table (with a caption and a row count).

    Text longer than ``max_chars`` (a basket's items as JSON ...) is cut with an ellipsis.
    """
    # Written out here: pandas' to_html took a tenth of a second for a checkout's tables.
    header = "".join(f"<th>{html.escape(str(column))}</th>" for column in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(value, max_chars)}</td>" for value in row) + "</tr>"
        for row in frame.head(max_rows).itertuples(index=False)
    )
    shown = f"<table class='mb-table'><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"
    more = (
        f"<div style='color:#888'>… {len(frame) - max_rows} more rows</div>"
        if len(frame) > max_rows
        else ""
    )
    count = _count(len(frame), "row")
    title = f"<div><b>{html.escape(caption)}</b> ({count})</div>" if caption else ""
    return TABLE_STYLE + title + shown + more


def _cell(value: Any, max_chars: int) -> str:
    """A table cell's text, escaped: empty for a missing value, long text cut."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return ""
    text = scalar_text(value)
    if len(text) > max_chars:
        text = text[: max_chars - 1] + "…"
    return html.escape(text)


class StreamExplorer:
    """Pick a stream, scrub its versions, see the event and the state it produced.

    ``aggregate_types`` maps stream names (``stores.Store``) to aggregate classes; the
    streams offered are the log's streams of those types. The shop may change while the
    explorer is open: *refresh* (or :meth:`refresh`) reads the log's streams again.
    """

    def __init__(self, log: EventLog, aggregate_types: Mapping[str, type[Aggregate]]) -> None:
        self.log = log
        self.aggregate_types = dict(aggregate_types)
        self.stream = widgets.Dropdown(options=[], description="stream")
        self.version = widgets.IntSlider(min=1, max=1, value=1, description="version")
        self.refresh_button = widgets.Button(description="refresh", tooltip="read the log again")
        self.event_pane = widgets.HTML()
        self.state_pane = widgets.HTML()
        self._events: list[AggregateEvent] = []
        self._refreshing = False
        self.event_pane.add_class("mallbots-event")
        self.state_pane.add_class("mallbots-state")
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.stream, self.version, self.refresh_button]),
                widgets.HBox(
                    [
                        self._titled("the event", self.event_pane),
                        self._titled("the state after it", self.state_pane),
                    ]
                ),
            ]
        )
        self.widget.add_class("mallbots-explorer")
        self.refresh()
        self.stream.observe(self._on_stream, names="value")
        self.version.observe(self._on_version, names="value")
        self.refresh_button.on_click(lambda _button: self.refresh())

    @staticmethod
    def _titled(title: str, pane: widgets.HTML) -> widgets.VBox:
        return widgets.VBox(
            [widgets.HTML(f"<b>{title}</b>"), pane], layout=widgets.Layout(width="50%")
        )

    def refresh(self) -> None:
        """Offer the log's streams as they are now, keeping the selected one if it is there."""
        streams = self.log.streams()
        streams = streams[streams["stream_name"].isin(self.aggregate_types)]
        names = stream_names(self.log) if len(streams) else {}
        options = [
            (
                _stream_label(row.stream_name, row.stream_id, row.events, names),
                (row.stream_name, row.stream_id),
            )
            for row in streams.itertuples()
        ]
        keys = [key for _, key in options]
        selected = keys.index(self.stream.value) if self.stream.value in keys else 0
        self._refreshing = True  # one load below, not one per trait the dropdown resets
        try:
            self.stream.options = options
            self.stream.index = selected if options else None
        finally:
            self._refreshing = False
        if self.stream.value is None:
            self._events = []
            self.event_pane.value = self.state_pane.value = "<i>no streams yet</i>"
        else:
            self._load(self.stream.value)

    def _on_stream(self, change: dict) -> None:
        if change["new"] is not None and not self._refreshing:
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

    def __repr__(self) -> str:
        if self.stream.value is None:
            return "StreamExplorer(no streams)"
        stream_name, stream_id = self.stream.value
        return (
            f"StreamExplorer({len(self.stream.options)} streams; showing {stream_name} "
            f"{stream_id} at version {self.version.value} of {self.version.max})"
        )

    def aggregate_at(self, version: int) -> Aggregate:
        """The selected stream's aggregate after ``version`` events (1 to the last).

        A continuation stream (the books were closed) shows the aggregate it continues,
        under that aggregate's own id.
        """
        if self.stream.value is None:
            raise ValueError("no stream to show: the log holds none of these types yet")
        if not 1 <= version <= len(self._events):
            raise ValueError(f"version {version}: the stream has versions 1 to {len(self._events)}")
        stream_name, stream_id = self.stream.value
        aggregate = self.aggregate_types[stream_name](self._events[0].aggregate_id)
        if aggregate.id != stream_id:
            aggregate.continue_in(stream_id)
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
        return _bundle(self, **kwargs)


class ReadModelViewer:
    """A read model as it stood at a chosen log position (replayed, the live one untouched).

    The slider ends at the log's head when the viewer was made; *refresh* (or
    :meth:`refresh`) moves its end to the head now.
    """

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
        self.refresh_button = widgets.Button(description="refresh", tooltip="read the log again")
        self.pane = widgets.HTML()
        self.position.observe(lambda change: self._show(change["new"]), names="value")
        self.refresh_button.on_click(lambda _button: self.refresh())
        self.widget = widgets.VBox([widgets.HBox([self.position, self.refresh_button]), self.pane])
        self._show(self.position.value)

    def refresh(self) -> None:
        """End the slider at the log's head now; at the head before, it moves along."""
        at_head = self.position.value == self.position.max
        self.position.max = self.log.head()
        if at_head:
            self.position.value = self.position.max
        self._show(self.position.value)

    def frames(self, position: int) -> dict[str, pd.DataFrame]:
        """Each table of the read model at ``position``."""
        return read_model_at(self.projection, self.log, position)

    def _show(self, position: int) -> None:
        self.pane.value = "".join(
            frame_html(frame, f"{table} at position {position}")
            for table, frame in self.frames(position).items()
        )

    def __repr__(self) -> str:
        return (
            f"ReadModelViewer({self.projection.name} at position {self.position.value} "
            f"of {self.position.max})"
        )

    def _repr_mimebundle_(self, **kwargs):
        return _bundle(self, **kwargs)


def _stream_label(
    stream_name: str, stream_id: str, events: int, names: Mapping[tuple[str, str], str]
) -> str:
    """``stores.Product Sprocket (sprocket, 3 events)``; a stream without a name by its id."""
    name = names.get((stream_name, stream_id))
    if name is None:
        return f"{stream_name} {stream_id} ({_count(events, 'event')})"
    return f"{stream_name} {name} ({stream_id}, {_count(events, 'event')})"


def _count(n: int, noun: str) -> str:
    """``1 event``, ``3 events``."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _bundle(owner: Any, **kwargs: Any) -> dict:
    """The widget's display, with a short, stable text form instead of its full state."""
    bundle = owner.widget._repr_mimebundle_(**kwargs)
    bundle["text/plain"] = repr(owner)
    return bundle


# --- the command panel ---------------------------------------------------------------------

ID_SOURCES: dict[str, str] = {
    "store_id": "stores.stores",
    "product_id": "stores.products",
    "customer_id": "customers.customers",
    "payment_id": "payments.payments",
    "invoice_id": "payments.invoices",
    "shopping_list_id": "depot.shopping_lists",
    "basket_id": "baskets.events",
    "order_id": "ordering.events",
}
"""Where the panel finds the ids it suggests for each kind of id field: a table keyed by
``id``, or an events table (its streams)."""

SUGGESTED_IDS = 100
"""How many ids an id field suggests, the newest first: a big mall knows too many for
a list (150,000 baskets took a second to send on every click)."""


class CommandPanel:
    """Pick a command, fill its fields, run it on the shop, and see what it did.

    After a run the panes show the new events and the rows each table gained, changed or
    lost, or, if a rule refused the command, the refusal (and that nothing was written).
    Id fields suggest the ids the shop knows. Most commands refuse an id the shop does
    not know; a few take it as the book does (a basket or payment names its customer
    without the customer module being asked), so typing one shows which are which.
    """

    def __init__(self, shop: Any, commands: Sequence[type] | None = None) -> None:
        self.shop = shop
        given = shop.command_types if commands is None else commands
        offered = [c for c in given if _supported(c)]
        if not offered:
            raise ValueError("none of these commands has fields the panel can fill")
        self.command = widgets.Dropdown(
            options=[(c.__name__, c) for c in offered], description="command"
        )
        self.run_button = widgets.Button(description="run", button_style="primary")
        self.fields = widgets.VBox()
        self.inputs: dict[str, widgets.Widget] = {}
        self.result_pane = widgets.HTML()
        self.events_pane = widgets.HTML()
        self.changes_pane = widgets.HTML()
        self.result_pane.add_class("mallbots-result")
        self.events_pane.add_class("mallbots-new-events")
        self.changes_pane.add_class("mallbots-changes")
        self.new_events = pd.DataFrame()
        """The events the last run appended (empty after a refusal)."""
        self.changes: list[TableChange] = []
        """The rows the last run changed, table by table."""
        self.error: Exception | None = None
        """The last run's refusal, or None."""
        self.result: Any = None
        """What the last run returned (a new id, or None)."""
        self.runs = 0
        self.tracker = ChangeTracker(shop)
        self.command.observe(lambda change: self._build_fields(change["new"]), names="value")
        self.run_button.on_click(lambda _button: self.run())
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.command, self.run_button]),
                self.fields,
                self.result_pane,
                self.events_pane,
                self.changes_pane,
            ]
        )
        self.widget.add_class("mallbots-command-panel")
        self._build_fields(self.command.value)

    # --- fields --------------------------------------------------------------------------

    def _build_fields(self, command: type) -> None:
        hints = typing.get_type_hints(command)
        self.inputs = {
            field.name: _field_input(field, hints[field.name], self._known_ids(field.name))
            for field in dataclasses.fields(command)
        }
        self.fields.children = tuple(self.inputs.values())

    def _known_ids(self, field_name: str) -> list[str]:
        table = ID_SOURCES.get(field_name)
        if table is None:
            return []
        return newest_ids(self.shop.database, table, SUGGESTED_IDS)

    def _refresh_ids(self, kinds: Collection[str] | None = None) -> None:
        """Suggest the ids as they are now in the fields shown (of ``kinds``, such as
        ``basket_id``, or all): a run may have made one."""
        for name, control in self.inputs.items():
            if isinstance(control, widgets.Combobox) and (kinds is None or name in kinds):
                known = self._known_ids(name)
                control.options = tuple(known)
                control.placeholder = _id_placeholder(known)

    def message(self) -> Any:
        """The selected command, built from the fields as they are filled in now."""
        command = self.command.value
        hints = typing.get_type_hints(command)
        values = {name: _read(control, hints[name]) for name, control in self.inputs.items()}
        return command(**values)

    # --- running -------------------------------------------------------------------------

    def run(self) -> None:
        """Run the command (what the button does); the panes show the outcome."""
        self.runs += 1
        self.error, self.result = None, None
        self.new_events, self.changes = pd.DataFrame(), []
        try:
            outcome = self.tracker.run(self.message())
        except (DomainError, TypeError, ValueError) as error:
            self.error = error
        else:
            self.result, self.new_events, self.changes = (
                outcome.result,
                outcome.events,
                outcome.changes,
            )
        self._show()
        self._refresh_ids(self._kinds_made())

    def _kinds_made(self) -> set[str]:
        """The kinds of id the last run made (``order_id`` for a checkout): streams it
        started, and the command's own optional id field if it returned an id."""
        started = self.new_events[self.new_events.get("stream_version", pd.Series()) == 1]
        kinds = set(streams_of(started)) if len(started) else set()
        if isinstance(self.result, str):
            hints = typing.get_type_hints(self.command.value)
            kinds |= {name for name in self.inputs if _is_optional_text(hints[name])}
        return kinds

    def _show(self) -> None:
        name = self.command.value.__name__
        if self.error is not None:
            kind = "refused" if isinstance(self.error, DomainError) else "could not run"
            self.result_pane.value = (
                f"<div style='color:#b00020'><b>#{self.runs} {name} {kind}:</b> "
                f"{html.escape(type(self.error).__name__)}: {html.escape(str(self.error))}"
                "<br>Nothing was written.</div>"
            )
        else:
            returned = "" if self.result is None else f", returned {html.escape(repr(self.result))}"
            self.result_pane.value = (
                f"<div style='color:#1b5e20'><b>#{self.runs} {name} ran</b>{returned}: "
                f"{html.escape(self.what_changed())}</div>"
            )
        events = self.new_events
        self.events_pane.value = (
            frame_html(
                events[
                    [
                        "position",
                        "stream_name",
                        "stream_id",
                        "stream_version",
                        "event_name",
                        "event_data",
                    ]
                ],
                "new events",
            )
            if len(events)
            else "<i>no new events</i>"
        )
        self.changes_pane.value = (
            "".join(
                frame_html(change.frame, f"{change.table}: {change.counts()}")
                for change in self.changes
            )
            or "<i>no rows changed</i>"
        )

    def what_changed(self) -> str:
        """The last run's changes in a sentence: its events, then the rows per table."""
        if self.error is not None:
            return "nothing (refused)"
        events = self.new_events
        if len(events):
            named = ", ".join(
                f"{name.rpartition('.')[2]} to {stream_id}"
                for name, stream_id in zip(events["event_name"], events["stream_id"], strict=True)
            )
            said = f"{_count(len(events), 'new event')} ({named})"
        else:
            said = "no new events"
        if self.changes:
            tables = "; ".join(f"{change.table} {change.counts()}" for change in self.changes)
            return f"{said}; rows: {tables}."
        return f"{said}; no rows changed."

    def __repr__(self) -> str:
        return f"CommandPanel({len(self.command.options)} commands; selected {self.command.label})"

    def _repr_mimebundle_(self, **kwargs):
        return _bundle(self, **kwargs)


def _is_optional_text(hint: Any) -> bool:
    return isinstance(hint, UnionType) and set(typing.get_args(hint)) == {str, NoneType}


def _supported(command: type) -> bool:
    """Whether every field of ``command`` is one the panel can fill (text, ids, money, int)."""
    hints = typing.get_type_hints(command)
    return all(
        hints[field.name] in (str, int, Any) or _is_optional_text(hints[field.name])
        for field in dataclasses.fields(command)
    )


def _field_input(field: dataclasses.Field, hint: Any, known_ids: list[str]) -> widgets.Widget:
    style = {"description_width": "9em"}
    layout = widgets.Layout(width="32em")
    default = None if field.default is dataclasses.MISSING else field.default
    name = field.name
    if hint is int:
        return widgets.IntText(value=default or 1, description=name, style=style, layout=layout)
    if _is_optional_text(hint):
        return widgets.Text(
            placeholder="blank: the shop makes one", description=name, style=style, layout=layout
        )
    if hint is Any:
        return widgets.Text(
            placeholder="an amount, e.g. 9.99", description=name, style=style, layout=layout
        )
    if name in ID_SOURCES:
        return widgets.Combobox(
            options=tuple(known_ids),
            ensure_option=False,
            placeholder=_id_placeholder(known_ids),
            description=name,
            style=style,
            layout=layout,
        )
    return widgets.Text(value=default or "", description=name, style=style, layout=layout)


def newest_ids(database: Any, table: str, count: int) -> list[str]:
    """The ``count`` newest ids of a table keyed by ``id`` (or streams of an events
    table), newest first; read from the table's end, not sorted whole."""
    if table.endswith(".events"):
        sql = (
            f"SELECT stream_id FROM {table} WHERE stream_version = 1 "
            "ORDER BY position DESC LIMIT $1"
        )
    else:
        sql = (
            f"SELECT id FROM {table} WHERE rowid > (SELECT max(rowid) FROM {table}) - $1 "
            "ORDER BY rowid DESC"
        )
    return [row[0] for row in database.execute(sql, [count]).fetchall()]


def _id_placeholder(known_ids: list[str]) -> str:
    if len(known_ids) < SUGGESTED_IDS:
        return f"one of {len(known_ids)} known ids, or any text"
    return f"one of the {len(known_ids)} newest ids, or any text"


def _read(control: widgets.Widget, hint: Any) -> Any:
    value = control.value
    if _is_optional_text(hint):
        return value if value.strip() else None
    return value
