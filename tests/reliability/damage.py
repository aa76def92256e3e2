"""Damage a DuckDB file for real: overwrite bytes inside one storage block of a table.

DuckDB keeps a file as three 4 KB headers followed by fixed-size blocks, each starting
with a checksum of the rest. ``pragma_storage_info`` names the blocks that hold a
table's column segments; overwriting bytes of one makes every read of that block fail
its checksum, which is what a bad disk sector or a torn write does.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

HEADERS = 3 * 4096
"""The file header and the two database headers, before block 0."""


CHECKSUM = 8
"""Each block starts with the checksum of what follows."""


def segments_of(path: str | Path, table: str) -> list[tuple[int, int]]:
    """(block id, offset in the block) of each stored column segment of ``table``."""
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(
            "SELECT block_id, block_offset FROM pragma_storage_info($1) "
            "WHERE persistent AND block_id >= 0 ORDER BY block_id, block_offset",
            [table],
        ).fetchall()


def block_size(path: str | Path) -> int:
    with duckdb.connect(str(path), read_only=True) as connection:
        (size,) = connection.execute("SELECT block_size FROM pragma_database_size()").fetchone()
    return size


def damage_block(path: str | Path, block: int, offset: int = 0, length: int = 32) -> int:
    """Flip ``length`` bytes at ``offset`` of a block's data; returns the file offset.

    Flip bytes a segment holds: DuckDB 2.0.1 finds a change in a block's data, not
    always one in the unused space after it. The file must be closed (checkpointed:
    its blocks are on disk, not in its WAL).
    """
    at = HEADERS + block * block_size(path) + CHECKSUM + offset
    with open(path, "r+b") as file:
        file.seek(at)
        original = file.read(length)
        file.seek(at)
        file.write(bytes(b ^ 0xFF for b in original))
    return at


def damage_table(path: str | Path, table: str) -> int:
    """Damage the first stored segment of ``table``; returns its block id."""
    segments = segments_of(path, table)
    if not segments:
        raise ValueError(f"{table} in {path} has no persistent block to damage")
    block, offset = segments[0]
    damage_block(path, block, offset)
    return block
