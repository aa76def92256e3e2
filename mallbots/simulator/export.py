"""The log as a Parquet file: an open format that notebooks, pandas and plain SQL read.

One row per event in position order, with the event store's columns. DuckDB writes
it with ``COPY``; read it back with ``SELECT * FROM 'file.parquet'``.
"""

from __future__ import annotations

from pathlib import Path

from mallbots.app import MallBots

LOG_COLUMNS = (
    "position, stream_name, stream_id, stream_version, event_id::VARCHAR AS event_id, "
    "event_name, event_data, metadata, occurred_at"
)


def export_log(shop: MallBots, path: str | Path) -> Path:
    """Write the shop's whole log to ``path`` as Parquet; returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    shop.database.execute(
        f"COPY (SELECT {LOG_COLUMNS} FROM ({shop.log.sql()}) ORDER BY position) "
        "TO $1 (FORMAT parquet, COMPRESSION zstd)",
        [str(target)],
    )
    return target
