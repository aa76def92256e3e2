"""The MallBots monolith: every module wired on one DuckDB database.

Like the book's ``cmd/mallbots/monolith.go``, :class:`MallBots` starts the modules,
hands each the shared infrastructure (database, dispatcher, clock, ids), and connects
them through their ports. On top it offers what a notebook needs:

- ``shop.execute(command)`` routes any command or query dataclass to its module;
- archiving closed streams and writing the snapshots afresh;
- the views of :class:`mallbots.shop_views.ShopViews`, a mixin: every stream, the
  global log and every table as a DataFrame, the reports, time travel
  (``aggregate_at``, ``history``, ``read_model_at``) and stream lifetimes.

Ids: a creating command may name its id; if it does not, the shop's id factory makes
one. With a seed, ids (:class:`SeededIds`) and the clock (:class:`SteppingClock`) are
deterministic, so the same script gives the same log, byte for byte, on every run.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mallbots.adapters import (
    BasketOrders,
    InvoiceOrders,
    OrderCustomers,
    OrderNotifications,
    OrderPayments,
    OrderShopping,
    ShoppingOrders,
)
from mallbots.baskets.module import BasketsModule
from mallbots.baskets.module import registrations as baskets_registrations
from mallbots.customers.module import CustomersModule
from mallbots.depot.module import DepotModule
from mallbots.es import (
    Aggregate,
    AggregateRepository,
    Database,
    EventDispatcher,
    EventLog,
    EventStore,
    EveryNEvents,
    Projector,
    Registry,
    SeededIds,
    SteppingClock,
)
from mallbots.es.cache import AggregateCache
from mallbots.es.clock import Clock, system_clock
from mallbots.es.duckdb.snapshots import rebuild_snapshots
from mallbots.es.ids import IdFactory, random_ids
from mallbots.es.snapshots import SnapshotStrategy
from mallbots.monolith import Monolith
from mallbots.notifications.module import NotificationsModule
from mallbots.ordering.module import OrderingModule
from mallbots.ordering.module import registrations as ordering_registrations
from mallbots.ownership import claim
from mallbots.payments.module import PaymentsModule
from mallbots.reporting.module import ReportingModule
from mallbots.shop_views import ShopViews
from mallbots.stores.module import StoresModule
from mallbots.stores.module import registrations as stores_registrations

DEFAULT_DATABASE = "mallbots.duckdb"
SCHEMAS = (
    "stores",
    "baskets",
    "ordering",
    "customers",
    "payments",
    "depot",
    "notifications",
    "reporting",
)
"""One schema per module, in the book's order of the monolith's modules (reporting added)."""


def shop_registry() -> Registry:
    """Every event and snapshot name the shop's log holds: the stores, baskets and
    ordering modules' registrations, merged (a shop's, and ``mallbots check``'s)."""
    return stores_registrations(Registry()).merge(
        [baskets_registrations(Registry()), ordering_registrations(Registry())]
    )


class MallBots(ShopViews):
    """The whole shop: the book's seven modules and reporting, one database, one projector."""

    def __init__(
        self,
        database: Database,
        *,
        clock: Clock | None = None,
        ids: IdFactory | None = None,
        snapshot_every: int = 3,
        snapshot_strategy: SnapshotStrategy | None = None,
        aggregate_cache: int = 0,
    ) -> None:
        """``snapshot_strategy``, if given, replaces ``EveryNEvents(snapshot_every)``.

        ``aggregate_cache`` keeps that many recently used aggregates in memory, so a
        command on one of them skips its load (:mod:`mallbots.es.cache`; 0: none, every
        load reads the database). Only for a shop that is the sole writer of its file.
        """
        if database.read_only:
            raise ValueError(
                f"a shop needs a database it can write, and {database.path} is open "
                "read-only: opening a shop creates its tables and brings its read models "
                "up to date. Open the file read-write, or read it without a shop, in SQL "
                "(database.execute)."
            )
        claim(database)  # another application's file is refused before anything is added
        self.database = database
        self.dispatcher = EventDispatcher()
        self.aggregate_cache = AggregateCache(aggregate_cache) if aggregate_cache else None
        monolith = Monolith(
            database,
            self.dispatcher,
            clock or system_clock,
            ids or random_ids,
            snapshot_strategy or EveryNEvents(snapshot_every),
            self.aggregate_cache,
        )
        self.clock = monolith.clock
        self.ids = monolith.ids
        self.customers = CustomersModule(monolith)
        self.payments = PaymentsModule(monolith, customers=self.customers.application)
        self.stores = StoresModule(monolith)
        self.depot = DepotModule(monolith, stores=self.stores.application)
        self.notifications = NotificationsModule(monolith, customers=self.customers.application)
        self.ordering = OrderingModule(
            monolith,
            customers=OrderCustomers(self.customers.application),
            payments=OrderPayments(self.payments.application),
            shopping=OrderShopping(self.depot.application),
            invoices=OrderPayments(self.payments.application),
            notifications=OrderNotifications(self.notifications.application),
        )
        self.payments.connect(InvoiceOrders(self.ordering.application))
        self.depot.connect(ShoppingOrders(self.ordering.application))
        self.baskets = BasketsModule(
            monolith,
            catalog=self.stores.application,
            customers=self.customers.application,
            orders=BasketOrders(self.ordering.application),
        )
        self.reporting = ReportingModule(monolith)
        self.registry = shop_registry()
        self.log = EventLog(database, self.registry)
        self.projector = Projector(database, self.log)
        for projection in self.stores.projections + self.reporting.projections:
            self.projector.add(projection, inline=True)
        self.dispatcher.subscribe(self.projector.handle, first=True)  # before any reaction
        self.projector.catch_up()  # a file may hold events its read models have not seen
        self._routes: dict[type, Any] = {}
        for module in self.modules.values():
            self._routes.update(module.application.routes())

    # --- opening -----------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: str | Path = DEFAULT_DATABASE,
        seed: int | None = None,
        snapshot_every: int = 3,
        snapshot_strategy: SnapshotStrategy | None = None,
        *,
        aggregate_cache: int = 0,
    ) -> MallBots:
        """The shop on a database file (created if missing, or adopted if empty).

        A file another application made is refused with a :class:`ForeignDatabaseError`
        and left as it was (see :mod:`mallbots.ownership`).

        The options and their defaults are :meth:`in_memory`'s: ``seed`` (default None:
        the system clock and random ids; a seed makes ids and times deterministic),
        ``snapshot_every`` (default 3, the book's), ``snapshot_strategy`` (default None:
        every ``snapshot_every`` events), ``aggregate_cache`` (default 0: none).

        With a seed, ids and times are deterministic. Reopening a file that already holds
        a shop continues reproducibly: the ids are seeded by the seed, the number of rows
        already there and the log's head (so they do not repeat earlier ones; two shops
        open on one file with one seed would draw the same), and the clock starts
        after the newest event.
        """
        database = Database.open(path)
        try:
            claim(database)  # before reading its tables for the seed
            options = _options(snapshot_every, snapshot_strategy, aggregate_cache)
            if seed is None:
                return cls(database, **options)
            clock, ids = _seeded(database, seed)
            return cls(database, clock=clock, ids=ids, **options)
        except BaseException:
            database.close()
            raise

    @classmethod
    def in_memory(
        cls,
        seed: int | None = None,
        snapshot_every: int = 3,
        snapshot_strategy: SnapshotStrategy | None = None,
        *,
        aggregate_cache: int = 0,
    ) -> MallBots:
        """A fresh shop in memory.

        The options and their defaults are :meth:`open`'s: ``seed`` (default None: the
        system clock and random ids; pass one, as every notebook does, for the same ids
        and times on every run), ``snapshot_every`` (default 3, the book's),
        ``snapshot_strategy`` (default None: every ``snapshot_every`` events),
        ``aggregate_cache`` (default 0: none).
        """
        options = _options(snapshot_every, snapshot_strategy, aggregate_cache)
        if seed is None:
            return cls(Database.memory(), **options)
        return cls(Database.memory(), clock=SteppingClock(), ids=SeededIds(seed), **options)

    def close(self) -> None:
        self.database.close()

    def __enter__(self) -> MallBots:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.database.closed:
            return f"MallBots({self.database.path!r}, closed)"
        return f"MallBots({self.database.path!r}, {self.log.count()} events)"

    # --- modules and commands ----------------------------------------------------------------

    @property
    def modules(self) -> dict[str, Any]:
        """The modules by name (``stores``, ``baskets`` ...), in the book's order."""
        return {name: getattr(self, name) for name in SCHEMAS}

    @property
    def message_types(self) -> list[type]:
        """Every command and query type :meth:`execute` accepts, by module."""
        return list(self._routes)

    @property
    def command_types(self) -> list[type]:
        """The command types only (those that write), by module in the book's order."""
        return [
            message
            for module in self.modules.values()
            for message in module.application.command_types()
        ]

    def execute(self, message: Any) -> Any:
        """Run a command or query dataclass in the module that handles it.

        A creating command returns the new id; a query returns its answer; a refused
        command raises its module's ``DomainError`` and writes nothing.
        """
        handler = self._routes.get(type(message))
        if handler is None:
            raise TypeError(
                f"no module handles {type(message).__name__}; "
                "see MallBots.message_types for the commands and queries"
            )
        return handler(message)

    # --- event stores and repositories ---------------------------------------------------------

    @property
    def event_stores(self) -> dict[str, EventStore]:
        """The event store of each event-sourced module."""
        return {name: self.modules[name].events for name in ("stores", "baskets", "ordering")}

    @property
    def repositories(self) -> dict[str, AggregateRepository]:
        """The repository of each aggregate type, by stream name (``stores.Store`` ...)."""
        repositories = [
            self.stores.stores,
            self.stores.products,
            self.baskets.baskets,
            self.ordering.orders,
        ]
        return {repository.aggregate_name: repository for repository in repositories}

    def repository(self, stream_name: str) -> AggregateRepository:
        """The repository of a stream type (``"stores.Product"``), or a KeyError naming them."""
        try:
            return self.repositories[stream_name]
        except KeyError:
            known = ", ".join(self.repositories)
            raise KeyError(f"no stream type {stream_name!r}; the shop has: {known}") from None

    def load(self, stream_name: str, aggregate_id: str) -> Aggregate:
        """An aggregate as its repository loads it (snapshot plus newer events)."""
        return self.repository(stream_name).load(aggregate_id)

    # --- closing the books -----------------------------------------------------------------------

    def archive_closed_streams(self) -> int:
        """Move every stream whose books were closed out of the hot events tables.

        Returns how many events moved. Loads, rebuilds and time travel read on as before.
        """
        moved = 0
        for name, store in self.event_stores.items():
            continuations = getattr(self.modules[name], "continuations", None)
            if continuations is not None:
                moved += store.archive(continuations.closed_streams())
        return moved

    # --- snapshots -------------------------------------------------------------------------------

    def rebuild_snapshots(self) -> dict[str, int]:
        """Drop every snapshot and write fresh ones from the events, all in one transaction.

        Snapshots are a cache: this mends a snapshot table DuckDB cannot read (a damaged
        block) or whose payloads no longer decode. Returns how many were written per table.
        """
        written = {}
        with self.database.transaction():
            for name in ("stores", "baskets", "ordering"):
                module = self.modules[name]
                types = [
                    repository.aggregate_type
                    for stream_name, repository in self.repositories.items()
                    if stream_name.startswith(f"{name}.")
                ]
                written[module.snapshots.table] = rebuild_snapshots(
                    module.snapshots, module.events, types
                )
        return written


def _options(
    snapshot_every: int, snapshot_strategy: SnapshotStrategy | None, aggregate_cache: int
) -> dict[str, Any]:
    """The keyword options :meth:`MallBots.open` and :meth:`MallBots.in_memory` pass on."""
    return {
        "snapshot_every": snapshot_every,
        "snapshot_strategy": snapshot_strategy,
        "aggregate_cache": aggregate_cache,
    }


def _seeded(database: Database, seed: int) -> tuple[SteppingClock, SeededIds]:
    """A deterministic clock and id factory that do not repeat what a file already holds."""
    tables = [
        f"{schema}.{name}"
        for schema, name in database.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' AND table_schema IN (SELECT unnest($1)) "
            "ORDER BY ALL",
            [list(SCHEMAS)],
        ).fetchall()
    ]
    rows = sum(database.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)
    if rows == 0:
        return SteppingClock(), SeededIds(seed)
    # The head too: a session that records an event and deletes a read-model row leaves
    # the count of rows as it was, and would draw the same ids again.
    newest, head = _log_end(database, [t for t in tables if t.endswith(".events")])
    digest = hashlib.sha256(f"{seed}:{rows}:{head}".encode()).digest()
    clock = SteppingClock()
    if newest is not None and newest >= clock.peek():
        clock = SteppingClock(start=newest + clock.step)
    return clock, SeededIds(int.from_bytes(digest[:8], "big"))


def _log_end(database: Database, tables: list[str]) -> tuple[datetime | None, int]:
    """The time of the newest event and the highest position (None and 0: no events)."""
    if not tables:
        return None, 0
    union = " UNION ALL ".join(
        f"SELECT max(occurred_at) AS at_, max(position) AS p FROM {t}" for t in tables
    )
    newest, head = database.execute(f"SELECT max(at_), max(p) FROM ({union})").fetchone()
    return (None if newest is None else newest.astimezone(UTC)), head or 0
