"""The shop's notebook views and reports: streams, the log, tables, time travel, lifetimes.

:class:`ShopViews` is a mixin of :class:`mallbots.app.MallBots`, so that a notebook keeps
writing ``shop.customer_history()`` or ``shop.aggregate_at(...)``, while ``app.py`` keeps
only the wiring of the modules. Everything here reads; nothing writes. It asks the shop
for its database, log, projector, modules and repositories, which the facade provides.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from mallbots.es import Aggregate, AggregateRepository, Database, EventLog, EventStore, Projector
from mallbots.es.books import Lifeline
from mallbots.es.lifetimes import Lifetime, classify_streams, lifetime_classes
from mallbots.es.time_travel import aggregate_at, history_frame, read_model_at
from mallbots.frames import exact_frame


class ShopViews:
    """DataFrames of a shop for a notebook: streams, the log, tables, reports, the past."""

    database: Database
    """Where the views read: the shop's DuckDB (on PostgreSQL, the local mirror)."""
    server: Any
    """The PostgreSQL database a shop writes to, or None (see :mod:`mallbots.read_side`)."""
    log: EventLog
    projector: Projector
    reporting: Any
    _read_side: Any
    """On PostgreSQL, what keeps ``database`` caught up (:mod:`mallbots.read_side`)."""

    if TYPE_CHECKING:  # provided by MallBots

        def _fresh(self) -> None: ...

        @property
        def modules(self) -> dict[str, Any]: ...

        @property
        def event_stores(self) -> dict[str, EventStore]: ...

        @property
        def repositories(self) -> dict[str, AggregateRepository]: ...

        def repository(self, stream_name: str) -> AggregateRepository: ...

    # --- streams, the log and tables as DataFrames -------------------------------------------

    def stream_frame(self, stream_name: str, aggregate_id: str) -> pd.DataFrame:
        """One aggregate's events, one row each: ``shop.stream_frame("stores.Store", id)``."""
        self.repository(stream_name)
        self._fresh()  # on PostgreSQL: the mirror first takes in what the server committed
        return self.log.stream_frame(stream_name, aggregate_id)

    def log_frame(self, after_position: int = 0, limit: int | None = None) -> pd.DataFrame:
        """The global log of every module, in position order."""
        self._fresh()
        return self.log.frame(after_position, limit)

    @property
    def tables(self) -> list[str]:
        """Every table of the shop: events (and their archives), snapshots, continuations,
        read models and plain tables."""
        found = []
        for name, store in self.event_stores.items():
            found += [store.table, f"{name}.snapshots"]
            if store.archive_table in self.database.log_tables:  # on PostgreSQL: the mirror's
                found.append(store.archive_table)
            continuations = getattr(self.modules[name], "continuations", None)
            if continuations is not None:
                found.append(continuations.table)
        for projection in self.projector:
            found += projection.tables
        for name in ("customers", "payments", "depot", "notifications"):
            found += self.modules[name].tables
        return found

    def read_model(self, table: str) -> pd.DataFrame:
        """A table of the shop as a DataFrame, in a stable order.

        ``shop.read_model("stores.stores")`` is the mall; ``shop.tables`` lists them all.
        """
        if table not in self.tables:
            raise KeyError(f"no table {table!r}; the shop's tables are: {', '.join(self.tables)}")
        self._fresh()
        if self.server is not None and table not in self._read_side_tables:
            return self.server.statements().sorted_frame(table)
        return exact_frame(self.database, f"SELECT * FROM {table} ORDER BY ALL")

    @property
    def _read_side_tables(self) -> set[str]:
        """The tables in ``database``: on PostgreSQL, the read models and the server's
        tables the read side copies (the log, snapshots, continuations, plain tables)."""
        return {*self._read_side.copied_tables, *(t for p in self.projector for t in p.tables)}

    # --- reports ------------------------------------------------------------------------------

    def customer_history(self, customer_id: str | None = None) -> pd.DataFrame:
        """Every basket and order of a customer (or of everyone), oldest first."""
        return self.reporting.application.history.frame(customer_id)

    def sales_per_store(self) -> pd.DataFrame:
        """Quantities and revenue per store, cancelled orders apart, best sellers first."""
        return self.reporting.application.sales.frame()

    # --- time travel ---------------------------------------------------------------------------

    def aggregate_at(
        self,
        stream_name: str,
        aggregate_id: str,
        *,
        version: int | None = None,
        at: datetime | None = None,
    ) -> Aggregate:
        """An aggregate as it was after its ``version``-th event, or at the moment ``at``.

        Replayed from the log (archived events included), across closed books.
        """
        repository = self.repository(stream_name)
        return aggregate_at(
            repository.aggregate_type,
            self._lifeline(stream_name),
            aggregate_id,
            version=version,
            at=at,
        )

    def history(self, stream_name: str, aggregate_id: str) -> pd.DataFrame:
        """An aggregate's life as a table: each event with the state right after it."""
        repository = self.repository(stream_name)
        return history_frame(repository.aggregate_type, self._lifeline(stream_name), aggregate_id)

    def read_model_at(self, name: str, position: int) -> pd.DataFrame | dict[str, pd.DataFrame]:
        """A read model as it stood once the log reached ``position``.

        ``name`` is a table (``"stores.stores"``: its DataFrame, ordered like
        :meth:`read_model`) or a projection (``"stores.mall"``: a DataFrame per table).
        Replayed into a private database: the live read models are not touched.
        """
        for projection in self.projector:
            if name in projection.tables:
                return read_model_at(projection, self.log, position)[name]
        for projection in self.projector:
            if name == projection.name:
                return read_model_at(projection, self.log, position)
        known = ", ".join(p.name for p in self.projector)
        raise KeyError(f"no read model {name!r}; the projections are: {known}")

    def _lifeline(self, stream_name: str) -> Lifeline:
        module = self.modules[stream_name.partition(".")[0]]
        return Lifeline(self.log, getattr(module, "continuations", None))

    # --- stream lifetimes ----------------------------------------------------------------------

    @property
    def lifetimes(self) -> dict[str, Lifetime]:
        """What the domain says of each stream type's lifetime, by stream name."""
        return {name: repo.aggregate_type.LIFETIME for name, repo in self.repositories.items()}

    def stream_lifetimes(self, endless_after: int = 100) -> pd.DataFrame:
        """Each stream with its length and lifetime class (short-lived, long-lived, endless)."""
        return classify_streams(self.log, self.lifetimes, endless_after)

    def lifetime_classes(self, endless_after: int = 100) -> pd.DataFrame:
        """Streams counted by type and lifetime class."""
        return lifetime_classes(self.log, self.lifetimes, endless_after)
