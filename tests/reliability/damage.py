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


def blocks_of(path: str | Path, table: str) -> list[int]:
    """The ids of the storage blocks holding ``table``'s column data, in order."""
    with duckdb.connect(str(path), read_only=True) as connection:
        rows = connection.execute(
            "SELECT DISTINCT block_id FROM pragma_storage_info($1) "
            "WHERE persistent AND block_id >= 0 ORDER BY block_id",
            [table],
        ).fetchall()
    return [block for (block,) in rows]


def block_size(path: str | Path) -> int:
    with duckdb.connect(str(path), read_only=True) as connection:
        (size,) = connection.execute("SELECT block_size FROM pragma_database_size()").fetchone()
    return size


def damage_block(path: str | Path, block: int, offset: int = 2000, length: int = 64) -> int:
    """Overwrite ``length`` bytes at ``offset`` inside a block; returns the file offset.

    The file must be closed (checkpointed: its blocks are on disk, not in its WAL).
    """
    at = HEADERS + block * block_size(path) + offset
    with open(path, "r+b") as file:
        file.seek(at)
        original = file.read(length)
        file.seek(at)
        file.write(bytes(b ^ 0xFF for b in original))
    return at


def damage_table(path: str | Path, table: str) -> int:
    """Damage the first storage block of ``table``; returns the block id."""
    blocks = blocks_of(path, table)
    if not blocks:
        raise ValueError(f"{table} in {path} has no persistent block to damage")
    damage_block(path, blocks[0])
    return blocks[0]
