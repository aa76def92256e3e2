"""The peer: the same workloads on the ``eventsourcing`` library (9.x) with SQLite files.

The library is an optional dependency (``pip install -e ".[bench]"``); importing this
module without it raises ImportError, which :mod:`benchmarks.run` reports. Each workload
uses its own SQLite file (``PERSISTENCE_MODULE=eventsourcing.sqlite``; the library puts
file databases in WAL mode) in the directory it is given. Given ``url`` (a fresh
PostgreSQL database), the workloads that take it use the library's PostgreSQL
persistence instead (``PERSISTENCE_MODULE=eventsourcing.postgres``, configured by its
``POSTGRES_*`` settings, see :func:`postgres_env`).

The aggregate is written the library's documented way (``@event`` methods) and holds
the same state as MallBots' benchmark account: an owner and a ``Decimal`` balance.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import get_topic

from benchmarks.catalog_log import cached_log, expected_catalog, stored_events
from benchmarks.timing import Trials, clock, command_trials, load_trials, per_second, timed

NAME = "eventsourcing"
ONE = Decimal("1.25")


class Account(Aggregate):
    @event("Opened")
    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.balance = Decimal(0)

    @event("Deposited")
    def deposit(self, amount: Decimal) -> None:
        self.balance += amount


class Bank(Application):
    pass


class SnapshottingBank(Application):
    is_snapshotting_enabled = True


def new_account(events: int) -> Account:
    """A new account with ``events`` pending events (opened, then deposits)."""
    account = Account("Ada")
    for _ in range(events - 1):
        account.deposit(ONE)
    return account


def postgres_env(url: str) -> dict[str, str]:
    """The library's settings for the PostgreSQL database at ``url``."""
    from psycopg.conninfo import conninfo_to_dict

    parts = conninfo_to_dict(url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(parts["dbname"]),
        "POSTGRES_HOST": str(parts.get("host", "127.0.0.1")),
        "POSTGRES_PORT": str(parts.get("port", 5432)),
        "POSTGRES_USER": str(parts.get("user", "postgres")),
        "POSTGRES_PASSWORD": str(parts.get("password", "")),
    }


@contextmanager
def application(
    workdir: Path,
    snapshotting: bool = False,
    cache_maxsize: int | None = None,
    url: str | None = None,
) -> Iterator[Application]:
    """An application on an SQLite file in ``workdir`` (or the PostgreSQL database at
    ``url``), closed on exit.

    With ``cache_maxsize``, its repository keeps that many aggregates and trusts them
    (no fast-forward query before handing one out), as MallBots' aggregate cache does.
    """
    cls = SnapshottingBank if snapshotting else Bank
    if url is not None:
        env = postgres_env(url)
    else:
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(workdir / "peer.sqlite"),
        }
    if cache_maxsize is not None:
        env |= {"AGGREGATE_CACHE_MAXSIZE": str(cache_maxsize), "AGGREGATE_CACHE_FASTFORWARD": "n"}
    app = cls(env=env)
    try:
        yield app
    finally:
        app.close()


# --- the workloads ------------------------------------------------------------------------


def append_one(workdir: Path, appends: int, url: str | None = None) -> Trials:
    with application(workdir, url=url) as app:
        while True:
            accounts = [new_account(1) for _ in range(appends)]
            save = app.save
            start = clock()
            for account in accounts:
                save(account)
            yield per_second(appends, clock() - start)


def append_threads(
    workdir: Path, appends: int, events: int, threads: int, url: str | None = None
) -> Trials:
    with application(workdir, url=url) as app, ThreadPoolExecutor(threads) as pool:
        while True:
            accounts = [new_account(events) for _ in range(appends)]
            shares = [accounts[i::threads] for i in range(threads)]
            start = clock()
            for done in [pool.submit(_save_all, app.save, share) for share in shares]:
                done.result()
            yield per_second(appends * events, clock() - start)


def _save_all(save: Callable[[Account], object], accounts: list[Account]) -> None:
    for account in accounts:
        save(account)


def read_log(workdir: Path, events: int, page: int, url: str | None = None) -> Trials:
    with application(workdir, url=url) as app:
        for _ in range(events // 500):
            app.save(new_account(500))
        if events % 500:
            app.save(new_account(events % 500))
        select, to_event = app.recorder.select_notifications, app.mapper.to_domain_event
        while True:
            start = clock()
            count, first = 0, 1
            while True:
                notifications = select(start=first, limit=page)
                if not notifications:
                    break
                batch = [to_event(n) for n in notifications]
                count += len(batch)
                first = notifications[-1].id + 1
            elapsed = clock() - start
            assert count == events, (count, events)
            yield per_second(count, elapsed)


def load_no_snapshot(workdir: Path, events: int, loads: int, url: str | None = None) -> Trials:
    yield from _load(workdir, events, loads, snapshotting=False, url=url)


def load_snapshot(workdir: Path, events: int, loads: int) -> Trials:
    yield from _load(workdir, events, loads, snapshotting=True)


def _load(
    workdir: Path, events: int, loads: int, snapshotting: bool, url: str | None = None
) -> Trials:
    with application(workdir, snapshotting, url=url) as app:
        account = new_account(events)
        app.save(account)
        if snapshotting:
            app.take_snapshot(account.id)
        expected = (events, account.balance)
        yield from load_trials(
            lambda: app.repository.get(account.id),
            loads,
            lambda loaded: (loaded.version, loaded.balance) == expected,
        )


def commands(workdir: Path, aggregates: int, commands: int, url: str | None = None) -> Trials:
    yield from _commands(workdir, aggregates, commands, cache_maxsize=None, url=url)


def commands_cached(
    workdir: Path, aggregates: int, commands: int, url: str | None = None
) -> Trials:
    yield from _commands(workdir, aggregates, commands, cache_maxsize=aggregates, url=url)


def _commands(
    workdir: Path,
    aggregates: int,
    commands: int,
    cache_maxsize: int | None,
    url: str | None = None,
) -> Trials:
    with application(workdir, cache_maxsize=cache_maxsize, url=url) as app:
        ids: list[UUID] = []
        for _ in range(aggregates):
            account = new_account(1)
            app.save(account)
            ids.append(account.id)
        yield from command_trials(app.repository.get, app.save, ids, commands, ONE)


def save_500(workdir: Path, saves: int, events: int) -> Trials:
    with application(workdir) as app:
        save = app.save
        while True:
            accounts = [new_account(events) for _ in range(saves)]
            elapsed = sum(timed(lambda a=account: save(a)) for account in accounts)
            yield per_second(saves * events, elapsed)


# --- the catalog rebuild (workloads 7 and 8) ------------------------------------------------


def _key_id(kind: str, key: str) -> UUID:
    """The peer's aggregate id for the log's stream id (its aggregates are named by UUIDs)."""
    return uuid5(NAMESPACE_URL, f"/mallbots/{kind}/{key}")


class Store(Aggregate):
    @staticmethod
    def create_id(key: str, name: str, location: str) -> UUID:
        return _key_id("stores", key)

    @event("Created")
    def __init__(self, key: str, name: str, location: str) -> None:
        self.name, self.location, self.participating = name, location, False

    @event("ParticipationEnabled")
    def enable_participation(self) -> None:
        self.participating = True

    @event("ParticipationDisabled")
    def disable_participation(self) -> None:
        self.participating = False

    @event("Rebranded")
    def rebrand(self, name: str) -> None:
        self.name = name


class Product(Aggregate):
    @staticmethod
    def create_id(
        key: str, store_id: str, name: str, description: str, sku: str, price: Decimal
    ) -> UUID:
        return _key_id("products", key)

    @event("Added")
    def __init__(
        self, key: str, store_id: str, name: str, description: str, sku: str, price: Decimal
    ) -> None:
        self.store_id, self.name, self.description = store_id, name, description
        self.sku, self.price, self.removed = sku, price, False

    @event("Rebranded")
    def rebrand(self, name: str, description: str) -> None:
        self.name, self.description = name, description

    @event("PriceIncreased")
    def increase_price(self, delta: Decimal) -> None:
        self.price += delta

    @event("PriceDecreased")
    def decrease_price(self, delta: Decimal) -> None:
        self.price += delta  # the delta is negative, as in MallBots' payload

    @event("Removed")
    def remove(self) -> None:
        self.removed = True


PRODUCT_TOPICS = [
    get_topic(cls)
    for cls in (
        Product.Added,
        Product.Rebranded,
        Product.PriceIncreased,
        Product.PriceDecreased,
        Product.Removed,
    )
]


def _apply(aggregates: dict, stream_name: str, key: str, name: str, data: dict) -> Aggregate:
    """Record one of the log's events on the peer's aggregate of its stream."""
    if name == "stores.StoreCreated":
        aggregate = aggregates[key] = Store(key, data["name"], data["location"])
    elif name == "stores.ProductAdded":
        aggregate = aggregates[key] = Product(
            key,
            data["store_id"],
            data["name"],
            data["description"],
            data.get("sku", ""),
            Decimal(data["price"]),
        )
    else:
        aggregate = aggregates[key]
        match name:
            case "stores.StoreParticipationEnabled":
                aggregate.enable_participation()
            case "stores.StoreParticipationDisabled":
                aggregate.disable_participation()
            case "stores.StoreRebranded":
                aggregate.rebrand(data["name"])
            case "stores.ProductRebranded":
                aggregate.rebrand(data["name"], data["description"])
            case "stores.ProductPriceIncreased":
                aggregate.increase_price(Decimal(data["delta"]))
            case "stores.ProductPriceDecreased":
                aggregate.decrease_price(Decimal(data["delta"]))
            case "stores.ProductRemoved":
                aggregate.remove()
            case _:
                raise ValueError(f"{stream_name} event {name} is not in the benchmark's log")
    return aggregate


def store_log(app: Application, rows, chunk: int = 10_000) -> int:
    """Store the log's events through the peer's aggregates, saving ``chunk`` at a time.

    Each stream's events are recorded in their order; a chunk's aggregates are saved
    together, so the notification log follows the log's order chunk by chunk.
    """
    aggregates: dict[str, Aggregate] = {}
    pending: dict[str, Aggregate] = {}
    stored = 0
    for stream_name, key, _version, name, data in rows:
        pending[key] = _apply(aggregates, stream_name, key, name, json.loads(data))
        stored += 1
        if stored % chunk == 0:
            app.save(*pending.values())
            pending.clear()
    if pending:
        app.save(*pending.values())
    return stored


def catalog_rebuild(workdir: Path, events: int, page: int = 1000, url: str | None = None) -> Trials:
    """Rebuild an in-memory catalog from the peer's notification log, page by page.

    The peer's own way to run a projection: ``select_notifications`` (filtered to the
    product events' topics, as MallBots reads only the events its projection handles)
    and ``mapper.to_domain_event``, each event applied to a dict of products. With
    ``url``, the events are first stored into that PostgreSQL database the same way.
    """
    expected = expected_catalog(cached_log(workdir, events))
    if url is None:
        shutil.copyfile(_peer_log(workdir, events), workdir / "peer.sqlite")
    else:
        with application(workdir, url=url) as app:
            assert store_log(app, stored_events(cached_log(workdir, events))) == events
    with application(workdir, url=url) as app:
        select, to_event = app.recorder.select_notifications, app.mapper.to_domain_event
        while True:
            start = clock()
            catalog: dict[UUID, dict] = {}
            first = 1
            while notifications := select(start=first, limit=page, topics=PRODUCT_TOPICS):
                for notification in notifications:
                    _catalog_apply(catalog, to_event(notification))
                first = notifications[-1].id + 1
            elapsed = clock() - start
            total = sum((row["price"] for row in catalog.values()), Decimal(0))
            assert (len(catalog), total) == expected, ((len(catalog), total), expected)
            yield per_second(events, elapsed)


def _peer_log(workdir: Path, events: int) -> Path:
    """The peer's SQLite file holding the log's events, stored once per run and size."""
    source = cached_log(workdir, events)
    path = source.with_name(f"peer-{events}.sqlite")
    if not path.exists():
        building = source.with_name(f"peer-{events}-building")
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir()
        with application(building) as app:
            assert store_log(app, stored_events(source)) == events
        (building / "peer.sqlite").rename(path)
        shutil.rmtree(building)
    return path


def _catalog_apply(catalog: dict[UUID, dict], domain_event: object) -> None:
    kind = type(domain_event)
    product_id = domain_event.originator_id
    if kind is Product.Added:
        catalog[product_id] = {
            "store_id": domain_event.store_id,
            "name": domain_event.name,
            "description": domain_event.description,
            "sku": domain_event.sku,
            "price": domain_event.price,
        }
    elif kind is Product.Removed:
        catalog.pop(product_id, None)
    else:
        row = catalog.get(product_id)
        if row is None:
            return
        if kind is Product.Rebranded:
            row["name"], row["description"] = domain_event.name, domain_event.description
        else:  # a price change
            row["price"] += domain_event.delta


TRIALS: dict[str, Callable[..., Trials]] = {
    "append_one": append_one,
    "append_threads": append_threads,
    "read_log": read_log,
    "load_no_snapshot": load_no_snapshot,
    "load_snapshot": load_snapshot,
    "commands": commands,
    "commands_cached": commands_cached,
    "save_500": save_500,
    "catalog_rebuild": catalog_rebuild,
    "catalog_rebuild_set_based": catalog_rebuild,  # the peer has one way: per event
}
