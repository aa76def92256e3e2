"""The mall read model: every store with its name, location and participation.

It is the book's ``stores.stores`` table, kept by :class:`MallProjection` from the store
events and read by :class:`Mall`, which answers the store queries.
:meth:`MallProjection.rows_sql` builds the same table from the whole log in one SQL pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pandas as pd

from mallbots.es import AggregateEvent, Database, RowBuffer, RowProjection, on, set_based
from mallbots.frames import exact_frame
from mallbots.stores.events import (
    STORE_CREATED,
    STORE_PARTICIPATION_DISABLED,
    STORE_PARTICIPATION_ENABLED,
    STORE_REBRANDED,
)

COLUMNS = "id, name, location, participating"


@dataclass(frozen=True)
class MallStore:
    """A store as the mall shows it."""

    id: str
    name: str
    location: str
    participating: bool


class MallProjection(RowProjection):
    """Keeps ``<schema>.stores`` (id, name, location, participating) from store events."""

    NAME = "mall"
    table_name = "stores"
    columns: ClassVar[dict[str, str]] = {
        "id": "VARCHAR",
        "name": "VARCHAR NOT NULL",
        "location": "VARCHAR NOT NULL",
        "participating": "BOOLEAN NOT NULL DEFAULT false",
    }

    @on(STORE_CREATED)
    def store_created(self, rows: RowBuffer, event: AggregateEvent) -> None:
        payload = event.payload
        rows.put(
            {
                "id": event.aggregate_id,
                "name": payload.name,
                "location": payload.location,
                "participating": False,
            }
        )

    @on(STORE_PARTICIPATION_ENABLED, STORE_PARTICIPATION_DISABLED)
    def participation_toggled(self, rows: RowBuffer, event: AggregateEvent) -> None:
        rows.update(event.aggregate_id, participating=event.payload.participating)

    @on(STORE_REBRANDED)
    def store_rebranded(self, rows: RowBuffer, event: AggregateEvent) -> None:
        rows.update(event.aggregate_id, name=event.payload.name)

    def rows_sql(self) -> str:
        created, toggled = (
            STORE_CREATED,
            (STORE_PARTICIPATION_ENABLED, STORE_PARTICIPATION_DISABLED),
        )
        participating = set_based.text("participating") + "::BOOLEAN"
        return f"""
            SELECT aggregate_id AS id,
                {set_based.last(set_based.text("name"), created, STORE_REBRANDED)} AS name,
                {set_based.last(set_based.text("location"), created)} AS location,
                coalesce({set_based.last_since(participating, (created,), *toggled)}, false)
                    AS participating
            FROM events GROUP BY aggregate_id
            HAVING {set_based.last_position(created)} IS NOT NULL
        """


class Mall:
    """Queries over the mall read model, in a stable order (name, then id)."""

    def __init__(self, database: Database, table: str) -> None:
        self.database = database
        self.table = table

    def find(self, store_id: str) -> MallStore | None:
        """The store with this id, or None."""
        rows = self._select("WHERE id = $1", [store_id])
        return rows[0] if rows else None

    def all(self) -> list[MallStore]:
        """Every store."""
        return self._select()

    def participating(self) -> list[MallStore]:
        """The stores taking part in automated shopping."""
        return self._select("WHERE participating")

    def frame(self) -> pd.DataFrame:
        """The read model as a DataFrame."""
        return exact_frame(self.database, f"SELECT {COLUMNS} FROM {self.table} ORDER BY name, id")

    def _select(self, where: str = "", parameters: list | None = None) -> list[MallStore]:
        rows = self.database.execute(
            f"SELECT {COLUMNS} FROM {self.table} {where} ORDER BY name, id",
            parameters or [],
        ).fetchall()
        return [MallStore(*row) for row in rows]
