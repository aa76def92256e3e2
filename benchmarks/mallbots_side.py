"""The MallBots side: the workloads on ``mallbots.es`` over a DuckDB file, or PostgreSQL.

The aggregate is a small bank account (an owner and a ``Decimal`` balance), the same
as the peer's in :mod:`benchmarks.peer_side`. Each workload opens its own database file
in the directory it is given, so workloads do not see each other's rows. Given ``url``
(a fresh PostgreSQL database, see :mod:`benchmarks.postgres_vs_eventsourcing`), the
workloads that take it run on :class:`mallbots.es.postgres.PostgresEventStore` instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from benchmarks.catalog_log import copy_log, expected_catalog
from benchmarks.timing import Trials, clock, command_trials, load_trials, per_second, timed
from mallbots import MallBots
from mallbots.es import (
    Aggregate,
    AggregateEvent,
    AggregateRepository,
    Database,
    EventLog,
    EventStore,
    EveryNEvents,
    Registry,
    SnapshotStore,
)
from mallbots.es.cache import AggregateCache
from mallbots.es.chain import store_chain

NAME = "MallBots"
ONE = Decimal("1.25")


@dataclass(frozen=True)
class Opened:
    owner: str


@dataclass(frozen=True)
class Deposited:
    amount: Decimal


@dataclass(frozen=True)
class AccountV1:
    owner: str
    balance: Decimal


class Account(Aggregate):
    NAME = "bench.Account"

    def __init__(self, id: str, **kwargs) -> None:
        super().__init__(id, **kwargs)
        self.owner = ""
        self.balance = Decimal(0)

    def open(self, owner: str) -> None:
        self.record("bench.Opened", Opened(owner))

    def deposit(self, amount: Decimal) -> None:
        self.record("bench.Deposited", Deposited(amount))

    def apply(self, event: AggregateEvent) -> None:
        payload = event.payload
        if type(payload) is Deposited:
            self.balance += payload.amount
        elif type(payload) is Opened:
            self.owner = payload.owner
        else:
            raise TypeError(f"unexpected event {event.name}")

    def to_snapshot(self) -> AccountV1:
        return AccountV1(self.owner, self.balance)

    def apply_snapshot(self, snapshot: object) -> None:
        if not isinstance(snapshot, AccountV1):
            raise TypeError(f"unexpected snapshot {snapshot!r}")
        self.owner, self.balance = snapshot.owner, snapshot.balance


def registry() -> Registry:
    registry = Registry()
    registry.register_event("bench.Opened", Opened)
    registry.register_event("bench.Deposited", Deposited)
    registry.register_snapshot("bench.AccountV1", AccountV1)
    return registry


@dataclass
class Wiring:
    database: Database
    registry: Registry
    events: EventStore
    accounts: AggregateRepository[Account]
    log: EventLog

    def account(self, events: int) -> Account:
        """A new account with ``events`` pending events (opened, then deposits)."""
        account = self.accounts.new(_new_id())
        account.open("Ada")
        for _ in range(events - 1):
            account.deposit(ONE)
        return account


_counter = iter(range(1, 1 << 62))


def _new_id() -> str:
    return f"account-{next(_counter)}"


@contextmanager
def wiring(
    workdir: Path,
    snapshot_every: int | None = None,
    cache: AggregateCache | None = None,
    url: str | None = None,
) -> Iterator[Wiring]:
    """A database file in ``workdir`` (or the PostgreSQL database at ``url``) with an
    account repository, closed on exit. On PostgreSQL other processes may write, so each
    cache hit is checked against the stream's head."""
    reg = registry()
    stores = _duckdb_stores(workdir, reg) if url is None else _postgres_stores(url, reg)
    with stores as (database, events, snapshot_kind, log):
        snapshot_store = None
        if snapshot_every is not None:
            every = EveryNEvents(snapshot_every)
            snapshot_store = snapshot_kind(events, database, reg, "bench.snapshots", every)
        store = store_chain(
            events, snapshot_store, cache=cache, transactions=database, shared=url is not None
        )
        yield Wiring(database, reg, events, AggregateRepository(Account, store), log)


Stores = tuple[Database, EventStore, type[SnapshotStore], EventLog]
"""One backend's database, event store, kind of snapshot store and log."""


@contextmanager
def _duckdb_stores(workdir: Path, reg: Registry) -> Iterator[Stores]:
    with Database.open(workdir / "mallbots.duckdb") as database:
        events = EventStore(database, reg, "bench.events")
        yield database, events, SnapshotStore, EventLog(database, reg)


@contextmanager
def _postgres_stores(url: str, reg: Registry) -> Iterator[Stores]:
    from mallbots.es.postgres import (
        PostgresDatabase,
        PostgresEventStore,
        PostgresLog,
        PostgresSnapshotStore,
    )

    with PostgresDatabase.open(url) as database:
        events = PostgresEventStore(database, reg, "bench.events")
        log = PostgresLog(database, reg, [events.table])
        yield database, events, PostgresSnapshotStore, log  # type: ignore[misc]


# --- the workloads ------------------------------------------------------------------------


def append_one(workdir: Path, appends: int, url: str | None = None) -> Trials:
    with wiring(workdir, url=url) as w:
        while True:
            accounts = [w.account(1) for _ in range(appends)]
            save = w.accounts.save
            start = clock()
            for account in accounts:
                save(account)
            yield per_second(appends, clock() - start)


def append_threads(
    workdir: Path, appends: int, events: int, threads: int, url: str | None = None
) -> Trials:
    with wiring(workdir, url=url) as w, ThreadPoolExecutor(threads) as pool:
        while True:
            accounts = [w.account(events) for _ in range(appends)]
            shares = [accounts[i::threads] for i in range(threads)]
            start = clock()
            for done in [pool.submit(_save_all, w.accounts.save, share) for share in shares]:
                done.result()
            yield per_second(appends * events, clock() - start)


def _save_all(save: Callable[[Account], object], accounts: list[Account]) -> None:
    for account in accounts:
        save(account)


def read_log(workdir: Path, events: int, page: int, url: str | None = None) -> Trials:
    with wiring(workdir, url=url) as w:
        for _ in range(events // 500):
            w.accounts.save(w.account(500))
        if events % 500:
            w.accounts.save(w.account(events % 500))
        log = w.log
        while True:
            start = clock()
            count = 0
            for batch in log.batches(0, page):
                count += len(batch)
            elapsed = clock() - start
            assert count == events, (count, events)
            yield per_second(count, elapsed)


def load_no_snapshot(workdir: Path, events: int, loads: int, url: str | None = None) -> Trials:
    yield from _load(workdir, events, loads, snapshot_every=None, url=url)


def load_snapshot(workdir: Path, events: int, loads: int) -> Trials:
    yield from _load(workdir, events, loads, snapshot_every=events)


def _load(
    workdir: Path, events: int, loads: int, snapshot_every: int | None, url: str | None = None
) -> Trials:
    with wiring(workdir, snapshot_every, url=url) as w:
        account = w.account(events)
        w.accounts.save(account)
        expected = (events, account.balance)
        yield from load_trials(
            lambda: w.accounts.load(account.id),
            loads,
            lambda loaded: (loaded.version, loaded.balance) == expected,
        )


def commands(workdir: Path, aggregates: int, commands: int, url: str | None = None) -> Trials:
    yield from _commands(workdir, aggregates, commands, cache=None, url=url)


def commands_cached(
    workdir: Path, aggregates: int, commands: int, url: str | None = None
) -> Trials:
    cache = AggregateCache(aggregates)
    yield from _commands(workdir, aggregates, commands, cache=cache, url=url)


def commands_cached_checked(
    workdir: Path, aggregates: int, commands: int, url: str | None = None
) -> Trials:
    """Cached commands run as a separate load and save (not :meth:`update`): on a shared
    server, each hit is checked against its stream's head before it is used."""
    cache = AggregateCache(aggregates)
    yield from _commands(workdir, aggregates, commands, cache=cache, url=url, by_update=False)


def commands_snapshots(
    workdir: Path, aggregates: int, commands: int, url: str | None = None
) -> Trials:
    """Commands on a store that snapshots every 3 events (the shop's default): a third
    of the saves write a snapshot with their event, and a load restores it."""
    yield from _commands(workdir, aggregates, commands, cache=None, url=url, snapshot_every=3)


def _commands(
    workdir: Path,
    aggregates: int,
    commands: int,
    cache: AggregateCache | None,
    url: str | None = None,
    snapshot_every: int | None = None,
    by_update: bool = True,
) -> Trials:
    """Commands a second; with a ``cache``, run by :meth:`AggregateRepository.update`
    unless not ``by_update``."""
    with wiring(workdir, snapshot_every, cache=cache, url=url) as w:
        ids = []
        for _ in range(aggregates):
            account = w.account(1)
            w.accounts.save(account)
            ids.append(account.id)
        if cache is None or not by_update:
            yield from command_trials(w.accounts.load, w.accounts.save, ids, commands, ONE)
        else:
            yield from _update_trials(w.accounts, ids, commands)


def _update_trials(accounts: AggregateRepository[Account], ids: list[str], commands: int) -> Trials:
    """Commands a second through :meth:`AggregateRepository.update`: a load, a deposit and
    a save as one command, whose save checks a cached copy instead of its load."""

    def deposit(account: Account) -> None:
        account.deposit(ONE)

    update = accounts.update
    while True:
        start = clock()
        for i in range(commands):
            update(ids[i % len(ids)], deposit)
        yield per_second(commands, clock() - start)


def save_500(workdir: Path, saves: int, events: int) -> Trials:
    with wiring(workdir) as w:
        save = w.accounts.save
        while True:
            accounts = [w.account(events) for _ in range(saves)]
            elapsed = sum(timed(lambda a=account: save(a)) for account in accounts)
            yield per_second(saves * events, elapsed)


def catalog_rebuild(workdir: Path, events: int, url: str | None = None) -> Trials:
    """Rebuild ``stores.catalog`` event by event: every event decoded and handled in Python.

    With ``url``, the log is copied into that PostgreSQL database first, and the catalog
    is a DuckDB read model in memory caught up from the server's log, as a shop on
    PostgreSQL keeps its read side.
    """
    if url is not None:
        yield from _postgres_catalog(workdir, events, url)
        return
    yield from _catalog(workdir, events, set_based=False)


def catalog_rebuild_set_based(workdir: Path, events: int) -> Trials:
    """Rebuild ``stores.catalog`` in one SQL pass over the log."""
    yield from _catalog(workdir, events, set_based=True)


def _catalog(workdir: Path, events: int, set_based: bool) -> Trials:
    path = copy_log(workdir, events)
    expected = expected_catalog(path)
    with MallBots.open(path) as shop:
        catalog = shop.stores.catalog_projection
        yield from _rebuilds(
            lambda: shop.projector.rebuild([catalog.name], set_based=set_based),
            shop.database,
            catalog.table,
            events,
            expected,
        )


def _postgres_catalog(workdir: Path, events: int, url: str) -> Trials:
    from mallbots.app import shop_registry
    from mallbots.es.postgres import PostgresDatabase, PostgresLog
    from mallbots.es.postgres.transfer import copy_log_to_postgres
    from mallbots.es.projector import Projector
    from mallbots.stores.catalog import CatalogProjection

    path = copy_log(workdir, events)
    expected = expected_catalog(path)
    with PostgresDatabase.open(url) as server, Database.memory() as read_side:
        source = Database.open(path)
        try:
            EventStore(source, shop_registry(), "stores.events")  # counts it into the log
            copy_log_to_postgres(source, server)
        finally:
            source.close()
        log = PostgresLog(server, shop_registry(), ["stores.events"])
        projector = Projector(read_side, log)
        catalog = projector.add(CatalogProjection("stores"), inline=False)
        yield from _rebuilds(
            lambda: projector.rebuild([catalog.name]), read_side, catalog.table, events, expected
        )


def _rebuilds(
    rebuild: Callable[[], object],
    read_side: Database,
    table: str,
    events: int,
    expected: tuple[int, Decimal],
) -> Trials:
    """Events a second of ``rebuild()`` (only it is timed); after each, the catalog in
    ``table`` must hold the ``expected`` products and total price."""
    while True:
        elapsed = timed(rebuild)
        (count, total) = read_side.execute(f"SELECT count(*), sum(price) FROM {table}").fetchone()
        assert (count, total) == expected, ((count, total), expected)
        yield per_second(events, elapsed)


TRIALS: dict[str, Callable[..., Trials]] = {
    "append_one": append_one,
    "append_threads": append_threads,
    "read_log": read_log,
    "load_no_snapshot": load_no_snapshot,
    "load_snapshot": load_snapshot,
    "commands": commands,
    "commands_cached": commands_cached,
    "commands_cached_checked": commands_cached_checked,
    "commands_snapshots": commands_snapshots,
    "save_500": save_500,
    "catalog_rebuild": catalog_rebuild,
    "catalog_rebuild_set_based": catalog_rebuild_set_based,
}
