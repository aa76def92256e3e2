"""Stream lifetimes: how long streams grow and how long they live, from the log.

The chapter's closing point: an event-sourced design should know the lifetime of its
streams. Some are short-lived (a basket: a few events, then checked out or abandoned),
some long-lived but slow (a store), and some would grow without end (a product whose
price changes daily) and need their books closed now and then. These queries answer
"which kind is each stream type?" with set-based SQL over the whole log, and
:func:`classify_streams` puts each stream in its class.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from mallbots.es.duckdb.log import EventLog


def stream_stats(log: EventLog) -> pd.DataFrame:
    """One row per stream: its length, first and last event time and lifetime."""
    return log.database.execute(
        f"""
        SELECT stream_name, stream_id,
               count(*)                          AS events,
               min(occurred_at)                  AS first_at,
               max(occurred_at)                  AS last_at,
               max(occurred_at) - min(occurred_at) AS lifetime,
               max(stream_version)               AS version
        FROM ({log.sql()})
        GROUP BY stream_name, stream_id
        ORDER BY stream_name, stream_id
        """
    ).df()


def lifetime_summary(log: EventLog) -> pd.DataFrame:
    """One row per stream type: how many streams, their lengths and lifetimes."""
    return log.database.execute(
        f"""
        WITH streams AS (
            SELECT stream_name, count(*) AS events,
                   epoch(max(occurred_at) - min(occurred_at)) / 3600 AS hours
            FROM ({log.sql()})
            GROUP BY stream_name, stream_id
        )
        SELECT stream_name,
               count(*)                          AS streams,
               sum(events)::BIGINT               AS events,
               round(avg(events), 2)             AS mean_length,
               median(events)                    AS median_length,
               max(events)                       AS max_length,
               round(median(hours), 2)           AS median_lifetime_hours,
               round(max(hours), 2)              AS max_lifetime_hours
        FROM streams
        GROUP BY stream_name
        ORDER BY stream_name
        """
    ).df()


def events_per_type(log: EventLog) -> pd.DataFrame:
    """How many events of each name the log holds, most frequent first."""
    return log.database.execute(
        f"""
        SELECT stream_name, event_name, count(*) AS events
        FROM ({log.sql()})
        GROUP BY stream_name, event_name
        ORDER BY events DESC, event_name
        """
    ).df()


def events_over_time(log: EventLog, every: str = "1 day") -> pd.DataFrame:
    """Events per name in buckets of time (``every`` is a DuckDB interval, e.g. '1 hour')."""
    return log.database.execute(
        f"""
        SELECT time_bucket(INTERVAL '{_interval(every)}', occurred_at) AS bucket,
               event_name, count(*) AS events
        FROM ({log.sql()})
        GROUP BY bucket, event_name
        ORDER BY bucket, event_name
        """
    ).df()


def _interval(text: str) -> str:
    number, _, unit = text.strip().partition(" ")
    units = {"minute", "minutes", "hour", "hours", "day", "days", "week", "weeks"}
    if not number.isdigit() or unit not in units:
        raise ValueError(f"not an interval like '1 day' or '6 hours': {text!r}")
    return f"{int(number)} {unit}"


SHORT_LIVED, LONG_LIVED, ENDLESS = "short-lived", "long-lived", "endless"


@dataclass(frozen=True)
class Lifetime:
    """What the domain says about a stream type: how long its streams live, what ends one.

    A short-lived stream (a basket) is born, changes a few times and ends. A long-lived
    one (a store) lives on but changes rarely. Among the long-lived, a stream that has
    not ended and has grown past a limit is classed endless: it will keep growing, and
    its books want closing.
    """

    kind: str
    ends: frozenset[str] = frozenset()
    """Event names after which a stream of this type never changes again."""


def classify_streams(
    log: EventLog, lifetimes: Mapping[str, Lifetime], endless_after: int = 100
) -> pd.DataFrame:
    """One row per stream: its length, whether it ended, and its lifetime class.

    ``lifetimes`` maps stream names to what the domain says of them; a long-lived stream
    that has not ended and holds more than ``endless_after`` events is ``endless``.
    """
    stats = log.database.execute(
        f"""
        SELECT stream_name, stream_id, count(*) AS events,
               arg_max(event_name, stream_version) AS last_event,
               epoch(max(occurred_at) - min(occurred_at)) / 86400 AS days
        FROM ({log.sql()}) GROUP BY stream_name, stream_id ORDER BY stream_name, stream_id
        """
    ).df()
    kinds, ended = [], []
    for name, last_event, events in zip(
        stats["stream_name"], stats["last_event"], stats["events"], strict=True
    ):
        lifetime = lifetimes.get(name, Lifetime(LONG_LIVED))
        done = last_event in lifetime.ends
        ended.append(done)
        endless = lifetime.kind == LONG_LIVED and not done and events > endless_after
        kinds.append(ENDLESS if endless else lifetime.kind)
    stats["ended"] = ended
    stats["lifetime"] = kinds
    stats["events_per_day"] = (stats["events"] / stats["days"].where(stats["days"] > 0)).round(2)
    stats["days"] = stats["days"].round(2)  # a table to read; the rate used the exact span
    return stats.drop(columns=["last_event"])


def lifetime_classes(
    log: EventLog, lifetimes: Mapping[str, Lifetime], endless_after: int = 100
) -> pd.DataFrame:
    """One row per stream type and lifetime class: how many streams, ended, their lengths."""
    streams = classify_streams(log, lifetimes, endless_after)
    grouped = streams.groupby(["stream_name", "lifetime"], sort=True)
    return grouped.agg(
        streams=("stream_id", "count"),
        ended=("ended", "sum"),
        events=("events", "sum"),
        median_length=("events", "median"),
        max_length=("events", "max"),
    ).reset_index()
