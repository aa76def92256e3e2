"""A small bank account aggregate that exercises the event-sourcing core in tests.

It is deliberately not a MallBots aggregate: the core must work for any domain.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from mallbots.es import (
    Aggregate,
    AggregateEvent,
    AggregateRepository,
    Database,
    EventDispatcher,
    EventStore,
    EveryNEvents,
    Registry,
    SeededIds,
    SnapshotStore,
    SteppingClock,
)
from mallbots.es.cache import AggregateCache
from mallbots.es.chain import store_chain
from mallbots.es.projection import RowBuffer, RowProjection, on


@dataclass(frozen=True)
class AccountOpened:
    owner: str


@dataclass(frozen=True)
class MoneyDeposited:
    amount: Decimal


@dataclass(frozen=True)
class MoneyWithdrawn:
    amount: Decimal


@dataclass(frozen=True)
class AccountRenamed:
    owner: str


@dataclass(frozen=True)
class AccountClosed:
    pass


@dataclass(frozen=True)
class AccountV1:
    owner: str
    balance: Decimal
    closed: bool
    history: tuple[str, ...]


class AccountError(Exception):
    """A refused command."""


class Account(Aggregate):
    NAME = "bank.Account"

    def __init__(self, id: str, **kwargs) -> None:
        super().__init__(id, **kwargs)
        self.owner = ""
        self.balance = Decimal("0")
        self.closed = False
        self.history: tuple[str, ...] = ()

    # commands
    def open(self, owner: str) -> None:
        if self.version or self.events:
            raise AccountError("already open")
        if not owner.strip():
            raise AccountError("the owner cannot be blank")
        self.record("bank.AccountOpened", AccountOpened(owner))

    def deposit(self, amount: Decimal) -> None:
        self._check_open()
        if amount <= 0:
            raise AccountError("deposits must be positive")
        self.record("bank.MoneyDeposited", MoneyDeposited(amount))

    def withdraw(self, amount: Decimal) -> None:
        self._check_open()
        if amount <= 0 or amount > self.balance:
            raise AccountError("cannot withdraw that")
        self.record("bank.MoneyWithdrawn", MoneyWithdrawn(amount))

    def rename(self, owner: str) -> None:
        self._check_open()
        self.record("bank.AccountRenamed", AccountRenamed(owner))

    def close(self) -> None:
        self._check_open()
        self.record("bank.AccountClosed", AccountClosed())

    def _check_open(self) -> None:
        if self.closed or not (self.version or self.events):
            raise AccountError("the account is not open")

    # state
    def apply(self, event: AggregateEvent) -> None:
        match event.payload:
            case AccountOpened(owner=owner) | AccountRenamed(owner=owner):
                self.owner = owner
            case MoneyDeposited(amount=amount):
                self.balance += amount
            case MoneyWithdrawn(amount=amount):
                self.balance -= amount
            case AccountClosed():
                self.closed = True
            case _:
                raise TypeError(f"unexpected event {event.name}")
        self.history = (*self.history, event.name.split(".")[-1])

    def to_snapshot(self) -> AccountV1:
        return AccountV1(self.owner, self.balance, self.closed, self.history)

    def apply_snapshot(self, snapshot: object) -> None:
        match snapshot:
            case AccountV1():
                self.owner = snapshot.owner
                self.balance = snapshot.balance
                self.closed = snapshot.closed
                self.history = snapshot.history
            case _:
                raise TypeError(f"unexpected snapshot {snapshot!r}")


def bank_registry() -> Registry:
    registry = Registry()
    for name, payload in [
        ("bank.AccountOpened", AccountOpened),
        ("bank.MoneyDeposited", MoneyDeposited),
        ("bank.MoneyWithdrawn", MoneyWithdrawn),
        ("bank.AccountRenamed", AccountRenamed),
        ("bank.AccountClosed", AccountClosed),
    ]:
        registry.register_event(name, payload)
    registry.register_snapshot("bank.AccountV1", AccountV1)
    return registry


class Bank:
    """The core wired as the book wires a module: store, publisher, snapshots, repository."""

    def __init__(
        self,
        database: Database,
        every: int | None = 3,
        seed: int = 7,
        cache: AggregateCache | None = None,
    ) -> None:
        self.database = database
        self.cache = cache
        self.registry = bank_registry()
        self.events = EventStore(database, self.registry, "bank.events")
        self.dispatcher = EventDispatcher()
        self.published: list[AggregateEvent] = []
        self.dispatcher.subscribe(self.published.append)
        snapshot_store = (
            SnapshotStore(
                self.events, database, self.registry, "bank.snapshots", EveryNEvents(every)
            )
            if every is not None
            else None
        )
        self.store = store_chain(
            self.events,
            snapshot_store,
            dispatcher=self.dispatcher,
            cache=cache,
            transactions=database,
        )
        self.accounts = AggregateRepository(
            Account, self.store, clock=SteppingClock(), ids=SeededIds(seed)
        )

    def open_account(self, account_id: str, owner: str = "Ada") -> Account:
        account = self.accounts.new(account_id)
        account.open(owner)
        self.accounts.save(account)
        return account


class Balances(RowProjection):
    """A read model of the test domain: one row per account."""

    NAME = "balances"
    table_name = "balances"
    columns: ClassVar[dict[str, str]] = {
        "id": "VARCHAR",
        "owner": "VARCHAR",
        "balance": "DECIMAL(18, 2)",
        "closed": "BOOLEAN",
        "changes": "INTEGER",
    }

    @on("bank.AccountOpened")
    def opened(self, rows: RowBuffer, event: AggregateEvent) -> None:
        rows.put(
            {
                "id": event.aggregate_id,
                "owner": event.payload.owner,
                "balance": Decimal("0"),
                "closed": False,
                "changes": 1,
            }
        )

    @on("bank.MoneyDeposited", "bank.MoneyWithdrawn")
    def moved(self, rows: RowBuffer, event: AggregateEvent) -> None:
        row = rows.get(event.aggregate_id)
        sign = 1 if event.name == "bank.MoneyDeposited" else -1
        rows.update(
            event.aggregate_id,
            balance=row["balance"] + sign * event.payload.amount,
            changes=row["changes"] + 1,
        )

    @on("bank.AccountRenamed")
    def renamed(self, rows: RowBuffer, event: AggregateEvent) -> None:
        row = rows.get(event.aggregate_id)
        rows.update(event.aggregate_id, owner=event.payload.owner, changes=row["changes"] + 1)

    @on("bank.AccountClosed")
    def closed(self, rows: RowBuffer, event: AggregateEvent) -> None:
        rows.delete(event.aggregate_id)
