"""The MallBots monolith: every module wired on one DuckDB database.

Like the book's ``cmd/mallbots/monolith.go``, :class:`MallBots` starts the modules,
hands each the shared infrastructure (database, dispatcher, clock, ids), and connects
them through their ports. On top it offers what a notebook needs:

- ``shop.execute(command)`` routes any command or query dataclass to its module;
- archiving closed streams and writing the snapshots afresh;
- the views of :class:`mallbots.shop_views.ShopViews`, a mixin: every stream, the
  global log and every table as a DataFrame, the reports, time travel
  (``aggregate_at``, ``history``, ``read_model_at``) and stream lifetimes.

Where it keeps them: by default one DuckDB database, a file or in memory. Given a
``postgresql://`` URL instead, the shop writes to PostgreSQL (events, snapshots,
continuations and the plain modules' tables, so a class can share one mall, each
command one transaction there) and reads from a local DuckDB (``shop.database``: a
mirror of the server's log and the read models caught up from it, in memory or in the
file ``read_models`` names). See :meth:`MallBots.open` and :meth:`MallBots.catch_up`.

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
from mallbots.es.errors import EventSourcingError
from mallbots.es.ids import IdFactory, random_ids
from mallbots.es.snapshot_rebuild import rebuild_snapshots
from mallbots.es.snapshots import SnapshotStrategy
from mallbots.es.transfer import rows_held
from mallbots.es.urls import DRIVER_HINT, is_server_url, shown_url
from mallbots.monolith import Monolith
from mallbots.notifications.module import NotificationsModule
from mallbots.ordering.module import OrderingModule
from mallbots.ordering.module import registrations as ordering_registrations
from mallbots.ownership import claim, refuse_mirror
from mallbots.payments.module import PaymentsModule
from mallbots.read_side import ServerReadSide
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
        database: Any,
        *,
        read_models: Database | None = None,
        clock: Clock | None = None,
        ids: IdFactory | None = None,
        snapshot_every: int = 3,
        snapshot_strategy: SnapshotStrategy | None = None,
        aggregate_cache: int = 0,
    ) -> None:
        """``snapshot_strategy``, if given, replaces ``EveryNEvents(snapshot_every)``.

        ``aggregate_cache`` keeps that many recently used aggregates in memory, so a
        command on one of them skips its load (:mod:`mallbots.es.cache`; 0: none, every
        load reads the database). On DuckDB the shop is its file's only writer and
        trusts what it saved; on PostgreSQL each hit is first checked against its
        stream's stored version (one small query), since other processes write too.

        ``database`` is a DuckDB :class:`Database`, or a
        :class:`~mallbots.es.postgres.PostgresDatabase`: the shop then writes there and
        keeps its read models in ``read_models`` (default: a new DuckDB in memory).
        """
        self.server = None if isinstance(database, Database) else database
        """The PostgreSQL database the shop writes to (None: it writes to ``database``)."""
        self._read_side: ServerReadSide | None = None
        storage = None
        if self.server is None:
            if read_models is not None:
                raise ValueError(
                    "read_models is for a shop on PostgreSQL: on DuckDB the read models "
                    "live in the shop's own database"
                )
            refuse_mirror(database)
        else:
            from mallbots.es.postgres.storage import PostgresStorage

            storage = PostgresStorage(database)
            database = Database.memory() if read_models is None else read_models
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
            database if self.server is None else self.server,
            self.dispatcher,
            clock or system_clock,
            ids or random_ids,
            snapshot_strategy or EveryNEvents(snapshot_every),
            self.aggregate_cache,
            storage,
            database,
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
        if self.server is None:
            self.dispatcher.subscribe(self.projector.handle, first=True)  # before any reaction
        else:
            self._read_side = ServerReadSide(
                self.server, database, self.log, self.projector, self.dispatcher
            )
            self._read_side.catch_up()
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
        read_models: str | Path | None = None,
    ) -> MallBots:
        """The shop on a database file (created if missing, or adopted if empty), or on
        the PostgreSQL database a ``postgresql://user@host:port/name`` URL names.

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

        On PostgreSQL (a class sharing one mall), the shop writes to the server and keeps
        its read models in a local DuckDB: in memory, or the file ``read_models`` names
        (reopened, it continues from where it stopped). Other processes' events reach
        them at :meth:`catch_up`, which every :meth:`execute` runs first. With a seed,
        each process should take its own: two opening an empty mall with one seed would
        draw the same ids. A server that cannot be reached is a
        :class:`~mallbots.es.postgres.ServerUnavailableError` that says so.
        """
        if is_server_url(path):
            return cls._open_server(
                str(path), seed, read_models, snapshot_every, snapshot_strategy, aggregate_cache
            )
        if read_models is not None:
            raise ValueError("read_models is for a shop on PostgreSQL (a postgresql:// URL)")
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
    def _open_server(
        cls,
        url: str,
        seed: int | None,
        read_models: str | Path | None,
        snapshot_every: int,
        snapshot_strategy: SnapshotStrategy | None,
        aggregate_cache: int,
    ) -> MallBots:
        """The shop on the PostgreSQL database at ``url`` (see :meth:`open`)."""
        try:
            from mallbots.es.postgres import PostgresDatabase
        except ImportError as missing:
            raise EventSourcingError(
                f"a postgresql:// URL needs the PostgreSQL driver, psycopg ({missing}): "
                f"{DRIVER_HINT}"
            ) from None

        server = PostgresDatabase.open(url)
        mirror: Database | None = None
        try:
            mirror = Database.memory() if read_models is None else Database.open(read_models)
            claim(mirror)
            options = _options(snapshot_every, snapshot_strategy, aggregate_cache)
            if seed is not None:
                clock, ids = _seeded(server, seed)
                options.update(clock=clock, ids=ids)
            return cls(server, read_models=mirror, **options)
        except BaseException:
            if mirror is not None:
                mirror.close()
            server.close()
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
        if self.server is not None:
            self.server.close()

    @property
    def location(self) -> str:
        """Where the shop writes: its file, ``:memory:``, or its server's URL (no password)."""
        return self.database.path if self.server is None else shown_url(self.server.url)

    def catch_up(self) -> int:
        """Bring the read models up to the log; how many events they took in.

        On DuckDB they are up to date after every command, and this finds nothing to
        do. On PostgreSQL it copies the events other processes (and this one) committed
        since the last catch-up into the local mirror and projects them, all in one
        DuckDB transaction (see :mod:`mallbots.read_side`).
        """
        if self._read_side is None:
            return self.projector.catch_up()
        return self._read_side.catch_up()

    def __enter__(self) -> MallBots:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.database.closed:
            return f"MallBots({self.location!r}, closed)"
        return f"MallBots({self.location!r}, {self.log.count()} events)"

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
        self._fresh()  # checks and queries read the read models: others' events too
        if self._read_side is not None and getattr(handler, "__writes__", False):
            return self._read_side.after_command(lambda: handler(message))
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

    def _fresh(self) -> None:
        """On PostgreSQL, catch up before reading (outside a command of this thread)."""
        if self._read_side is not None:
            self._read_side.fresh()

    # --- closing the books -----------------------------------------------------------------------

    def archive_closed_streams(self) -> int:
        """Move every stream whose books were closed out of the hot events tables.

        Returns how many events moved. Loads, rebuilds and time travel read on as before.
        On PostgreSQL the streams move on the server, each module in one transaction
        (see :mod:`mallbots.es.postgres.archive`); the read side's mirror keeps the
        events it already copied where they are.
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
        On PostgreSQL the transaction is the server's: other processes load from the old
        snapshots until it commits.
        """
        written = {}
        with (self.database if self.server is None else self.server).transaction():
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


def _seeded(database: Any, seed: int) -> tuple[SteppingClock, SeededIds]:
    """A deterministic clock and id factory that do not repeat what the shop's tables
    already hold (in a DuckDB file or on a PostgreSQL server)."""
    tables = database.tables_in(SCHEMAS)
    rows = sum(rows_held(database, tables).values())
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


def _log_end(database: Any, tables: list[str]) -> tuple[datetime | None, int]:
    """The time of the newest event and the highest position (None and 0: no events)."""
    if not tables:
        return None, 0
    union = " UNION ALL ".join(
        f"SELECT max(occurred_at) AS at_, max(position) AS p FROM {t}" for t in tables
    )
    newest, head = database.execute(f"SELECT max(at_), max(p) FROM ({union}) AS ends").fetchone()
    return (None if newest is None else newest.astimezone(UTC)), head or 0
