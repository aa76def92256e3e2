"""Plots and widgets that show event streams and read models in the notebooks."""

from mallbots.viz.changes import ChangeTracker, TableChange, TableState
from mallbots.viz.measure import count_replayed, load_replays, rebuild_times, snapshot_load_times
from mallbots.viz.plots import (
    events_over_time_data,
    log_order_data,
    plot_events_over_time,
    plot_load_times,
    plot_log_order,
    plot_projection_lag,
    plot_rebuild_times,
    plot_state_history,
    plot_stream_lengths,
    plot_timeline,
    projection_lag_data,
    stacked_series,
    state_history_data,
    stream_length_data,
    timeline_data,
)
from mallbots.viz.widgets import (
    CommandPanel,
    ReadModelViewer,
    StreamExplorer,
    frame_html,
)

__all__ = [
    "ChangeTracker",
    "CommandPanel",
    "ReadModelViewer",
    "StreamExplorer",
    "TableChange",
    "TableState",
    "count_replayed",
    "events_over_time_data",
    "frame_html",
    "load_replays",
    "log_order_data",
    "plot_events_over_time",
    "plot_load_times",
    "plot_log_order",
    "plot_projection_lag",
    "plot_rebuild_times",
    "plot_state_history",
    "plot_stream_lengths",
    "plot_timeline",
    "projection_lag_data",
    "rebuild_times",
    "snapshot_load_times",
    "stacked_series",
    "state_history_data",
    "stream_length_data",
    "timeline_data",
]
