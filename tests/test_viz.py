"""Plots draw exactly their data; widgets change what they show when their controls move."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal

import pandas as pd
import pytest
from matplotlib.colors import to_rgb

from mallbots import MallBots
from mallbots.app import shop_registry
from mallbots.baskets import Basket
from mallbots.es import EventLog
from mallbots.es.time_travel import history_frame
from mallbots.ordering import Order
from mallbots.stores import CloseProductBooks
from mallbots.stores.product import Product
from mallbots.viz import (
    ReadModelViewer,
    StreamExplorer,
    events_over_time_data,
    plot_events_over_time,
    plot_load_times,
    plot_projection_lag,
    plot_rebuild_times,
    plot_state_history,
    plot_stream_lengths,
    plot_timeline,
    state_history_data,
    stream_length_data,
    timeline_data,
)
from mallbots.viz.palette import (
    EVENT_COLOURS,
    MAX_SERIES,
    MIN_DISTANCE,
    MODULES,
    distance,
    every_colour,
    in_legend_order,
    module_of,
    series_groups,
    short_label,
)
from mallbots.viz.plots import (
    colours_for,
    log_order_data,
    plot_log_order,
    projection_lag_data,
    stacked_series,
)
from mallbots.workbook import small_mall
from tests.es_support import Account, Balances
from tests.test_projections import projector_for


@pytest.fixture
def log(bank):
    projector_for(bank)
    for n in range(3):
        account = bank.open_account(f"acct-{n}")
        for _ in range(n + 1):
            account.deposit(Decimal("2"))
        if n == 2:
            account.withdraw(Decimal("1"))
        bank.accounts.save(account)
    return EventLog(bank.database, bank.registry)


def scatter_points(figure) -> int:
    return sum(len(c.get_offsets()) for c in figure.axes[0].collections)


def test_timeline_data_has_one_row_per_event_on_its_stream_line(log):
    data = timeline_data(log)
    assert list(data["position"]) == list(range(1, 11))
    assert list(data.drop_duplicates("row")["stream"]) == [
        "Account acct-0",
        "Account acct-1",
        "Account acct-2",
    ]
    assert data.groupby("row").size().tolist() == [2, 3, 5]
    figure = plot_timeline(data)
    assert scatter_points(figure) == 10
    assert [t.get_text() for t in figure.axes[0].get_legend().get_texts()] == [
        "AccountOpened",
        "MoneyDeposited",
        "MoneyWithdrawn",
    ]


def test_timeline_dots_are_drawn_in_the_order_events_happened(log):
    # So where dots overlap, the later event shows: a stream's end is never hidden
    # under its start.
    data = timeline_data(log).sample(frac=1, random_state=7)  # any order in
    figure = plot_timeline(data)
    drawn = figure.axes[0].collections[0]
    assert list(drawn.get_offsets()[:, 0]) == list(range(1, 11))
    colours = colours_for(data["event_name"])
    last = data.sort_values("position")["event_name"].iloc[-1]
    assert tuple(drawn.get_facecolors()[-1][:3]) == pytest.approx(to_rgb(colours[last]))


def test_timeline_by_version_in_the_stream(log):
    data = timeline_data(log)
    assert data.groupby("row")["stream_version"].max().tolist() == [2, 3, 5]
    figure = plot_timeline(data, x="stream_version")
    assert figure.axes[0].get_xlabel() == "event number in its stream"
    assert max(figure.axes[0].collections[0].get_offsets()[:, 0]) == 5
    with pytest.raises(ValueError, match="x must be one of"):
        plot_timeline(data, x="event_name")


def test_day_ticks_name_their_month(log):
    data = timeline_data(log)
    data["occurred_at"] = pd.date_range("2024-03-01", "2024-04-20", periods=len(data), tz="UTC")
    figure = plot_timeline(data, x="occurred_at")
    figure.canvas.draw()
    labels = [t.get_text() for t in figure.axes[0].get_xticklabels() if t.get_text()]
    assert labels and all(re.fullmatch(r"\d\d [A-Z][a-z]{2}|[A-Z][a-z]{2}", t) for t in labels)
    assert any("Mar" in t for t in labels) and any("Apr" in t for t in labels)


@pytest.mark.filterwarnings("error")
def test_an_empty_log_draws_an_empty_timeline_without_warnings(bank):
    data = timeline_data(EventLog(bank.database, bank.registry))
    for x in ("position", "occurred_at", "stream_version"):
        figure = plot_timeline(data, x=x)
        figure.canvas.draw()
        assert figure.axes[0].get_legend() is None


def test_a_returned_figure_is_drawn_as_a_png_by_ipython(log):
    from IPython.core.interactiveshell import InteractiveShell

    from mallbots.viz.plots import show_figures_inline

    shell = InteractiveShell.instance()
    assert show_figures_inline(shell)
    data, _ = shell.display_formatter.format(plot_timeline(timeline_data(log)))
    assert data["image/png"][:4] == b"\x89PNG"
    assert data["text/plain"].startswith("<Figure size")


@pytest.mark.parametrize(
    ("ids", "labels"),
    [
        (  # short ids whole, long ones (UUIDs) cut
            ("basket-grace-1", "basket-grace-2", "0123456789abcdef-long"),
            ("basket-grace-1", "basket-grace-2", "01234567…"),
        ),
        (  # but never two streams under one label
            ("basket-grace-long-1", "basket-grace-long-2", "0123456789abcdef-long"),
            ("basket-grace-long-1", "basket-grace-long-2", "01234567…"),
        ),
    ],
)
def test_timeline_labels_are_short_and_tell_streams_apart(bank, ids, labels):
    for account_id in ids:
        bank.open_account(account_id)
    data = timeline_data(EventLog(bank.database, bank.registry))
    assert list(data["stream"]) == [f"Account {label}" for label in labels]


def test_timeline_keeps_only_the_first_streams(log):
    data = timeline_data(log, max_streams=2)
    assert set(data["row"]) == {0, 1}


def test_stream_lengths(log):
    data = stream_length_data(log)
    assert list(data["events"]) == [2, 3, 5]
    figure = plot_stream_lengths(data)
    assert sum(patch.get_height() for patch in figure.axes[0].patches) == 3


def test_events_over_time(log):
    data = events_over_time_data(log, "hour")
    assert data.to_dict("records") == [
        {"bank.AccountOpened": 3, "bank.MoneyDeposited": 6, "bank.MoneyWithdrawn": 1}
    ]
    figure = plot_events_over_time(data)
    assert sum(patch.get_height() for patch in figure.axes[0].patches) == 10
    legend = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert legend == ["AccountOpened", "MoneyDeposited", "MoneyWithdrawn"]  # top down
    tops = [patch.get_y() + patch.get_height() for patch in figure.axes[0].patches]
    assert tops[-1] == max(tops)  # the first in the legend is drawn last, on top
    with pytest.raises(ValueError):
        events_over_time_data(log, "fortnight")


def test_events_over_time_keeps_quiet_buckets_and_labels_the_hour(bank):
    bank.open_account("early")  # 09:00 on the bank's clock
    bank.accounts.clock.advance(timedelta(hours=5))
    bank.open_account("late")  # 14:00
    data = events_over_time_data(EventLog(bank.database, bank.registry), "hour")
    assert data["bank.AccountOpened"].tolist() == [1, 0, 0, 0, 0, 1]  # 09:00 to 14:00
    figure = plot_events_over_time(data)
    figure.canvas.draw()
    labels = [t.get_text() for t in figure.axes[0].get_xticklabels()]
    assert labels[0].endswith(" 09:00") and len(set(labels)) == len(labels)


def test_events_over_time_refuses_more_bars_than_it_can_draw(bank):
    bank.open_account("early")
    bank.accounts.clock.advance(timedelta(days=3))
    bank.open_account("late")
    data = events_over_time_data(EventLog(bank.database, bank.registry), "minute")
    assert len(data) > 4_000  # three days of minutes, most of them quiet
    with pytest.raises(ValueError, match=r"too many bars.*'hour' or 'day'"):
        plot_events_over_time(data)


@pytest.mark.filterwarnings("error")
def test_plots_of_nothing_say_so_instead_of_failing(bank):
    empty = EventLog(bank.database, bank.registry)
    lengths = plot_stream_lengths(stream_length_data(empty))
    assert "no streams yet" in [text.get_text() for text in lengths.axes[0].texts]
    none = plot_rebuild_times(pd.DataFrame({"projection": [], "mode": [], "ms": []}))
    assert "no read models measured" in [text.get_text() for text in none.axes[0].texts]
    assert events_over_time_data(empty).empty


def test_a_state_history_draws_numbers_and_names_them_when_given_text(bank):
    account = bank.open_account("a1")
    account.rename("Grace")
    bank.accounts.save(account)
    history = history_frame(Account, bank.events, "a1")
    assert list(state_history_data(history, "balance")["value"]) == [0, 0]
    with pytest.raises(ValueError, match=r"'owner' is not a number.*numeric fields are: balance"):
        state_history_data(history, "owner")


def test_load_time_and_lag_plots_draw_one_line_per_series():
    times = pd.DataFrame(
        {
            "length": [10, 100, 10, 100],
            "mode": ["events", "events", "snapshot", "snapshot"],
            "ms": [1.0, 9.0, 0.5, 0.6],
        }
    )
    assert len(plot_load_times(times).axes[0].lines) == 2
    lag = pd.DataFrame(
        {"step": [0, 1, 2], "projection": ["mall"] * 3, "head": [5, 9, 12], "position": [5, 5, 12]}
    )
    assert projection_lag_data(lag)["lag"].tolist() == [0, 4, 0]
    axes = plot_projection_lag(lag).axes[0]
    assert [list(line.get_ydata()) for line in axes.lines if line.get_label() == "mall"] == [
        [0, 4, 0]
    ]
    assert "behind" in axes.get_ylabel()


def test_the_rebuild_plot_draws_a_labelled_bar_per_projection_and_mode():
    times = pd.DataFrame(
        {
            "projection": ["stores.mall", "stores.mall", "reporting.sales", "reporting.sales"],
            "mode": ["per event", "set-based", "per event", "set-based"],
            "events": [6, 6, 5, 5],
            "ms": [30.0, 10.0, 1200.0, 300.0],
        }
    )
    axes = plot_rebuild_times(times).axes[0]
    assert [patch.get_width() for patch in axes.patches] == [30.0, 1200.0, 10.0, 300.0]
    assert [t.get_text() for t in axes.get_yticklabels()] == ["stores.mall", "reporting.sales"]
    assert [t.get_text() for t in axes.texts] == ["30 ms", "1,200 ms", "10 ms", "300 ms"]
    assert [t.get_text() for t in axes.get_legend().get_texts()] == ["per event", "set-based"]


def test_the_stream_explorer_shows_the_state_at_the_chosen_version(log):
    explorer = StreamExplorer(log, {"bank.Account": Account})
    assert next(label for label, _ in explorer.stream.options) == "bank.Account acct-0 (2 events)"
    explorer.stream.value = ("bank.Account", "acct-2")
    assert explorer.version.max == 5 and explorer.version.value == 5
    assert "MoneyWithdrawn" in explorer.event_pane.value
    latest = explorer.state_pane.value
    assert "5" in latest  # balance 2+2+2-1
    explorer.version.value = 1
    assert "AccountOpened" in explorer.event_pane.value
    assert explorer.state_pane.value != latest
    assert explorer.aggregate_at(3).balance == Decimal("4")
    explorer.stream.value = ("bank.Account", "acct-0")
    assert explorer.version.max == 2 and explorer.version.value == 2


def test_the_stream_explorer_refuses_versions_the_stream_does_not_have(log):
    explorer = StreamExplorer(log, {"bank.Account": Account})
    explorer.stream.value = ("bank.Account", "acct-1")
    for version in (-1, 0, 4):
        with pytest.raises(ValueError, match="versions 1 to 3"):
            explorer.aggregate_at(version)


def test_the_stream_explorer_on_an_empty_log_says_so(bank):
    explorer = StreamExplorer(EventLog(bank.database, bank.registry), {"bank.Account": Account})
    assert explorer.event_pane.value == explorer.state_pane.value == "<i>no streams yet</i>"
    with pytest.raises(ValueError, match="no stream to show"):
        explorer.aggregate_at(1)


def test_refreshed_widgets_follow_a_log_that_moved_on(log, bank):
    explorer = StreamExplorer(log, {"bank.Account": Account})
    viewer = ReadModelViewer(Balances("bank"), log)
    explorer.stream.value = ("bank.Account", "acct-0")
    account = bank.accounts.load("acct-0")
    account.deposit(Decimal("1"))
    bank.accounts.save(account)
    bank.open_account("acct-3")
    explorer.refresh_button.click()
    assert explorer.stream.value == ("bank.Account", "acct-0")  # still the one chosen
    assert explorer.stream.label == "bank.Account acct-0 (3 events)"
    assert explorer.version.max == explorer.version.value == 3
    assert "bank.Account acct-3 (1 event)" in [label for label, _ in explorer.stream.options]
    viewer.refresh_button.click()
    assert viewer.position.max == viewer.position.value == 12  # it was at the head
    assert "acct-3" in viewer.pane.value


def test_the_stream_explorer_shows_a_continued_aggregate_under_its_own_id():
    with MallBots.in_memory(seed=1) as shop:
        small_mall(shop)
        continued = shop.execute(CloseProductBooks("sprocket"))
        explorer = StreamExplorer(shop.log, {"stores.Product": Product})
        explorer.stream.value = ("stores.Product", continued)
        shown = explorer.aggregate_at(explorer.version.max)
        assert (shown.id, shown.stream_id) == ("sprocket", continued)
        assert shown.state() == shop.load("stores.Product", "sprocket").state()


def test_widgets_show_a_short_stable_text_form(log):
    explorer = StreamExplorer(log, {"bank.Account": Account})
    explorer.stream.value = ("bank.Account", "acct-2")
    explorer.version.value = 3
    text = "StreamExplorer(3 streams; showing bank.Account acct-2 at version 3 of 5)"
    assert repr(explorer) == text
    bundle = explorer._repr_mimebundle_()
    assert bundle["text/plain"] == text
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert repr(StreamExplorer(log, {"bank.Nothing": Account})) == "StreamExplorer(no streams)"
    viewer = ReadModelViewer(Balances("bank"), log, start=4)
    assert viewer._repr_mimebundle_()["text/plain"] == (
        "ReadModelViewer(bank.balances at position 4 of 10)"
    )


def test_the_read_model_viewer_shows_the_read_model_at_a_position(log):
    viewer = ReadModelViewer(Balances("bank"), log)
    assert viewer.position.max == 10
    now = viewer.pane.value
    assert "acct-2" in now and "(3 rows)" in now
    viewer.position.value = 1
    assert "acct-2" not in viewer.pane.value and "(1 row)" in viewer.pane.value


def test_the_state_history_plot_steps_through_each_value_and_marks_a_moment(bank):
    account = bank.open_account("steps")
    for amount in ("5", "2.50"):
        account.deposit(Decimal(amount))
    account.withdraw(Decimal("1"))
    bank.accounts.save(account)
    history = history_frame(Account, bank.events, "steps")
    data = state_history_data(history, "balance")
    assert list(data["event"]) == ["AccountOpened", *["MoneyDeposited"] * 2, "MoneyWithdrawn"]
    assert list(data["value"]) == [Decimal("0"), Decimal("5"), Decimal("7.50"), Decimal("6.50")]
    assert list(data["version"]) == [1, 2, 3, 4]

    moment = data["occurred_at"][2]  # the second deposit: 7.50 holds from then
    figure = plot_state_history(data, "balance", moment=moment)
    axes = figure.axes[0]
    (step, moment_line, then) = axes.lines
    assert list(step.get_ydata()) == [0.0, 5.0, 7.5, 6.5]
    assert list(moment_line.get_xdata()) == [moment] * 2
    assert (list(then.get_xdata()), list(then.get_ydata())) == ([moment], [7.5])
    assert scatter_points(figure) == 4  # one dot per event, coloured by its name
    assert [text.get_text() for text in axes.texts] == ["7.50 at version 3"]
    with pytest.raises(ValueError, match="no field 'price'"):
        state_history_data(history, "price")


def test_the_explorer_shows_items_as_tables_not_python_reprs():
    shop = MallBots.in_memory(seed=42)
    ids = small_mall(shop)
    explorer = StreamExplorer(shop.log, {"baskets.Basket": Basket, "ordering.Order": Order})
    explorer.stream.value = ("baskets.Basket", ids.baskets[0])
    explorer.version.value = 3  # after two items were added
    event, state = explorer.event_pane.value, explorer.state_pane.value
    for pane in (event, state):
        assert "Item(" not in pane and "Decimal(" not in pane and "<BasketStatus" not in pane
    assert "<th>product_price</th>" in state and "<td>4.75</td>" in state
    assert state.count("<tr><td>") == 2  # a row per item in the basket
    assert "<th>status</th><td>open</td>" in state
    assert "<th>quantity</th><td>1</td>" in event  # the added item, field by field
    order = shop.log.streams().query("stream_name == 'ordering.Order'")["stream_id"].iloc[0]
    explorer.stream.value = ("ordering.Order", order)
    assert explorer.state_pane.value.count("<tr><td>") == 3  # the order's three lines


# --- one palette ---------------------------------------------------------------------------


def test_no_two_colours_of_the_palette_are_hard_to_tell_apart():
    colours = every_colour()
    assert len(set(colours)) == len(colours)
    closest = min((distance(a, b), a, b) for i, a in enumerate(colours) for b in colours[i + 1 :])
    assert closest[0] >= MIN_DISTANCE >= 10, closest


def test_every_event_type_of_the_shop_has_its_own_colour_in_its_modules_order():
    types = [name for name in shop_registry().names() if not name.endswith("V1")]
    assert sorted(EVENT_COLOURS) == sorted(types)
    assert in_legend_order(reversed(types)) == list(EVENT_COLOURS)
    assert [module_of(name) for name in EVENT_COLOURS] == sorted(
        (module_of(name) for name in EVENT_COLOURS), key=list(MODULES).index
    )


def test_a_type_keeps_its_colour_whatever_else_a_plot_shows():
    few = colours_for(["baskets.BasketStarted", "ordering.OrderCreated"])
    many = colours_for(list(EVENT_COLOURS)[::-1])
    assert few["baskets.BasketStarted"] == many["baskets.BasketStarted"]
    assert few["ordering.OrderCreated"] == many["ordering.OrderCreated"]
    assert list(colours_for(["ordering.OrderCreated", "stores.StoreCreated"])) == [
        "stores.StoreCreated",
        "ordering.OrderCreated",
    ]  # legend order: by module
    strangers = colours_for(["bank.AccountOpened", "bank.MoneyDeposited", "bank.MoneyWithdrawn"])
    assert len(set(strangers.values())) == 3  # no two types of one plot share a grey


def test_two_plots_with_different_types_draw_a_type_in_one_colour():
    shop = MallBots.in_memory(seed=42)
    small_mall(shop)
    timeline = plot_timeline(timeline_data(shop.log, stream_name="baskets.Basket"))
    stacked = plot_events_over_time(events_over_time_data(shop.log, "day"))

    def legend_colours(figure):
        legend = figure.axes[0].get_legend()
        handles = legend.legend_handles
        return {
            text.get_text(): tuple(
                handle.get_facecolor()[0][:3]
                if hasattr(handle, "get_offsets")
                else handle.get_facecolor()[:3]
            )
            for text, handle in zip(legend.get_texts(), handles, strict=True)
        }

    first, second = legend_colours(timeline), legend_colours(stacked)
    shared = set(first) & set(second)
    assert "BasketStarted" in shared
    for label in shared:
        assert first[label] == pytest.approx(second[label]), label
    assert first["BasketStarted"] == pytest.approx(to_rgb(EVENT_COLOURS["baskets.BasketStarted"]))


def test_a_stacked_plot_groups_a_modules_rarest_types_beyond_eight_series():
    counts = {name: 10 + n for n, name in enumerate(EVENT_COLOURS)}  # 20 types
    data = pd.DataFrame([counts, counts])
    series = stacked_series(data)
    assert len(series.columns) <= MAX_SERIES
    assert series.to_numpy().sum() == data.to_numpy().sum()  # nothing lost
    assert "stores (other)" in series.columns and "baskets (other)" in series.columns
    assert "ordering.OrderCanceled" in series.columns  # the most frequent keep their own
    assert list(series.columns) == in_legend_order(series.columns)
    groups = series_groups(counts)
    assert groups["stores.StoreCreated"] == "stores (other)"  # the rarest
    assert series_groups({"stores.StoreCreated": 1}) == {
        "stores.StoreCreated": "stores.StoreCreated"
    }
    figure = plot_events_over_time(data)
    labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert labels == [short_label(name) for name in series.columns]


def test_a_stacked_plot_of_eight_types_or_fewer_shows_each():
    counts = {name: 1 for name in list(EVENT_COLOURS)[:8]}
    assert list(stacked_series(pd.DataFrame([counts])).columns) == list(counts)


def figure_pixels(figure) -> tuple[int, int]:
    from IPython.core.pylabtools import print_figure
    from PIL import Image

    png = print_figure(figure, "png", bbox_inches="tight")
    return Image.open(io.BytesIO(png)).size


def _races():
    from mallbots.classroom.race import RaceResult

    return [
        RaceResult("counter", 4, 4, (), 0, True, 0.1, (1, 2, 3, 4)),
        RaceResult("bigserial", 4, 3, (2,), 0, True, 0.1, (1, 3, 2, 4)),
    ]


def test_log_order_data_sets_each_position_beside_its_commit_number():
    data = log_order_data(_races())
    serial = data[data["kind"] == "bigserial"]
    assert serial["position"].tolist() == [1, 3, 2, 4]
    assert serial["offset"].tolist() == [0, 1, -1, 0]
    assert serial["skipped"].tolist() == [False, False, True, False]
    assert data[data["kind"] == "counter"]["offset"].tolist() == [0, 0, 0, 0]


def test_the_log_order_plot_has_a_panel_per_kind_and_crosses_the_skipped():
    figure = plot_log_order(log_order_data(_races()))
    titles = [axes.get_title() for axes in figure.axes]
    assert titles == ["counter: 0 skipped", "bigserial: 1 skipped"]
    crosses = figure.axes[1].collections[1].get_offsets().tolist()
    assert crosses == [[3, -1]]
    assert [text.get_text() for text in figure.legends[0].get_texts()] == [
        "an event",
        "skipped by the reader",
    ]


def test_every_plot_fits_the_notebook_column():
    shop = MallBots.in_memory(seed=42)
    small_mall(shop)
    log = shop.log
    lag = pd.DataFrame(
        {"step": [0, 1], "projection": ["stores.mall"] * 2, "head": [5, 9], "position": [5, 9]}
    )
    times = pd.DataFrame({"length": [10, 100], "mode": ["events"] * 2, "ms": [1.0, 9.0]})
    history = shop.history("stores.Product", "sprocket")
    figures = {
        "timeline": plot_timeline(timeline_data(log)),
        "lengths": plot_stream_lengths(stream_length_data(log)),
        "over time": plot_events_over_time(events_over_time_data(log, "hour")),
        "lag": plot_projection_lag(lag),
        "loads": plot_load_times(times),
        "log order": plot_log_order(log_order_data(_races())),
        "state": plot_state_history(state_history_data(history, "price"), "price"),
    }
    for name, figure in figures.items():
        width, _ = figure_pixels(figure)
        assert width <= 1000, f"{name}: {width} px"


def test_streams_are_labelled_by_their_names_where_they_have_one():
    shop = MallBots.in_memory(seed=42)
    small_mall(shop)
    labels = list(timeline_data(shop.log).drop_duplicates("row")["stream"])
    assert "Store Waldorf Widgets & Co" in labels
    assert "Product Sprocket" in labels
    assert "Basket basket-ada-1" in labels  # a basket has no name: its id
    assert not [label for label in labels if re.search(r"[0-9a-f]{8}-[0-9a-f]{4}", label)]


def test_the_explorer_names_the_streams_that_have_a_name():
    shop = MallBots.in_memory(seed=42)
    small_mall(shop)
    explorer = StreamExplorer(shop.log, {"stores.Product": Product, "baskets.Basket": Basket})
    labels = [label for label, _ in explorer.stream.options]
    assert "stores.Product Whistling Kettle (kettle, 2 events)" in labels  # its latest name
    assert any(label.startswith("baskets.Basket basket-ada-1 (") for label in labels)
