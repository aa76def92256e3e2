"""Stream lifetimes: how long streams grow and how long they live, from the log.

The chapter's closing point: an event-sourced design should know the lifetime of its
streams. Some are short-lived (a basket: a few events, then checked out or abandoned),
some long-lived but slow (a store), and some would grow without end (a product whose
price changes daily) and need their books closed now and then. These queries answer
"which kind is each stream type?" with set-based SQL over the whole log.
"""

from __future__ import annotations

import pandas as pd

from mallbots.es.log import EventLog


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
