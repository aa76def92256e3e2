"""The peer: the same workloads on the ``eventsourcing`` library (9.x) with SQLite files.

The library is an optional dependency (``pip install -e ".[bench]"``); importing this
module without it raises ImportError, which :mod:`benchmarks.run` reports. Each workload
uses its own SQLite file (``PERSISTENCE_MODULE=eventsourcing.sqlite``; the library puts
file databases in WAL mode) in the directory it is given.

The aggregate is written the library's documented way (``@event`` methods) and holds
the same state as MallBots' benchmark account: an owner and a ``Decimal`` balance.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from benchmarks.timing import Trials, clock, milliseconds, per_second, timed

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


@contextmanager
def application(workdir: Path, snapshotting: bool = False) -> Iterator[Application]:
    """An application on an SQLite file in ``workdir``, closed on exit."""
    cls = SnapshottingBank if snapshotting else Bank
    app = cls(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(workdir / "peer.sqlite"),
        }
    )
    try:
        yield app
    finally:
        app.close()


# --- the workloads ------------------------------------------------------------------------


def append_one(workdir: Path, appends: int) -> Trials:
    with application(workdir) as app:
        while True:
            accounts = [new_account(1) for _ in range(appends)]
            save = app.save
            start = clock()
            for account in accounts:
                save(account)
            yield per_second(appends, clock() - start)


def append_threads(workdir: Path, appends: int, events: int, threads: int) -> Trials:
    with application(workdir) as app, ThreadPoolExecutor(threads) as pool:
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


def read_log(workdir: Path, events: int, page: int) -> Trials:
    with application(workdir) as app:
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


def load_no_snapshot(workdir: Path, events: int, loads: int) -> Trials:
    yield from _load(workdir, events, loads, snapshotting=False)


def load_snapshot(workdir: Path, events: int, loads: int) -> Trials:
    yield from _load(workdir, events, loads, snapshotting=True)


def _load(workdir: Path, events: int, loads: int, snapshotting: bool) -> Trials:
    with application(workdir, snapshotting) as app:
        account = new_account(events)
        app.save(account)
        if snapshotting:
            app.take_snapshot(account.id)
        expected = account.balance
        get = app.repository.get
        while True:
            start = clock()
            for _ in range(loads):
                loaded = get(account.id)
            elapsed = clock() - start
            assert loaded.version == events and loaded.balance == expected
            yield milliseconds(elapsed / loads)


def commands(workdir: Path, aggregates: int, commands: int) -> Trials:
    with application(workdir) as app:
        ids: list[UUID] = []
        for _ in range(aggregates):
            account = new_account(1)
            app.save(account)
            ids.append(account.id)
        get, save = app.repository.get, app.save
        while True:
            start = clock()
            for i in range(commands):
                account = get(ids[i % aggregates])
                account.deposit(ONE)
                save(account)
            yield per_second(commands, clock() - start)


def save_500(workdir: Path, saves: int, events: int) -> Trials:
    with application(workdir) as app:
        save = app.save
        while True:
            accounts = [new_account(events) for _ in range(saves)]
            elapsed = sum(timed(lambda a=account: save(a)) for account in accounts)
            yield per_second(saves * events, elapsed)


TRIALS: dict[str, Callable[..., Trials]] = {
    "append_one": append_one,
    "append_threads": append_threads,
    "read_log": read_log,
    "load_no_snapshot": load_no_snapshot,
    "load_snapshot": load_snapshot,
    "commands": commands,
    "save_500": save_500,
}
