"""Schema evolution: events written with an old payload shape still load, as current types."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from mallbots.es import (
    AggregateRepository,
    CorruptEventError,
    Database,
    EventLog,
    EventStore,
    Registry,
)
from tests.es_support import Account, AccountOpened, Bank, MoneyDeposited, bank_registry


@dataclass(frozen=True)
class MoneyDepositedV2:
    """Version 2 of MoneyDeposited: money with a currency."""

    amount: Decimal
    currency: str


def cents_to_money(old: dict) -> dict:
    """Version 1 stored whole cents as an integer."""
    return {
        "amount": str(Decimal(old["amount"]) / 100),
        **{k: v for k, v in old.items() if k != "amount"},
    }


def add_currency(old: dict) -> dict:
    return {**old, "currency": "EUR"}


def write_old_log(db: Database) -> None:
    """Events as an old release wrote them: a v1 payload with amounts in integer cents."""
    old = Registry()
    old.register_event("bank.AccountOpened", AccountOpened)

    @dataclass(frozen=True)
    class CentsDeposited:
        amount: int

    old.register_event("bank.MoneyDeposited", CentsDeposited)
    account = Account("a1")
    opened = account.record("bank.AccountOpened", AccountOpened("Ada"))
    deposited = opened._replace(
        id="6f1c3a4e-1b2c-4d5e-8f90-123456789abc",
        name="bank.MoneyDeposited",
        payload=CentsDeposited(1999),
        aggregate_version=2,
    )
    EventStore(db, old, "bank.events").append("bank.Account", "a1", 0, [opened, deposited])


def current_registry() -> Registry:
    registry = Registry()
    registry.register_event("bank.AccountOpened", AccountOpened)
    registry.register_event("bank.MoneyDeposited", MoneyDepositedV2, version=2)
    registry.register_upcaster(
        "bank.MoneyDeposited", 1, lambda old: add_currency(cents_to_money(old))
    )
    return registry


class AccountV2(Account):
    def apply(self, event):
        if isinstance(event.payload, MoneyDepositedV2):
            self.balance += event.payload.amount
            self.history = (*self.history, "MoneyDeposited")
        else:
            super().apply(event)


def test_an_old_log_loads_into_current_types_without_being_rewritten(db):
    write_old_log(db)
    stored_before = db.execute("SELECT event_data, metadata FROM bank.events").fetchall()
    events = EventStore(db, current_registry(), "bank.events")
    deposited = events.load_stream("bank.Account", "a1")[1]
    assert deposited.payload == MoneyDepositedV2(Decimal("19.99"), "EUR")
    account = AggregateRepository(AccountV2, events).load("a1")
    assert account.balance == Decimal("19.99")
    assert db.execute("SELECT event_data, metadata FROM bank.events").fetchall() == stored_before


def test_new_events_record_their_schema_version_and_are_not_upcast(db):
    write_old_log(db)
    events = EventStore(db, current_registry(), "bank.events")
    repository = AggregateRepository(AccountV2, events)
    account = repository.load("a1")
    account.record("bank.MoneyDeposited", MoneyDepositedV2(Decimal("5.00"), "USD"))
    repository.save(account)
    assert db.execute("SELECT metadata FROM bank.events WHERE stream_version = 3").fetchall() == [
        ('{"schema_version":2}',)
    ]
    payloads = [e.payload for e in EventLog(db, current_registry()).events()]
    assert payloads[1:] == [
        MoneyDepositedV2(Decimal("19.99"), "EUR"),
        MoneyDepositedV2(Decimal("5.00"), "USD"),
    ]
    assert repository.load("a1").balance == Decimal("24.99")


def test_a_missing_upcaster_is_a_clear_error_naming_the_event(db):
    write_old_log(db)
    registry = Registry()
    registry.register_event("bank.AccountOpened", AccountOpened)
    registry.register_event("bank.MoneyDeposited", MoneyDepositedV2, version=3)
    registry.register_upcaster("bank.MoneyDeposited", 2, lambda old: old)
    with pytest.raises(CorruptEventError) as caught:
        EventStore(db, registry, "bank.events").load_stream("bank.Account", "a1")
    assert "event 2 of stream bank.Account 'a1'" in str(caught.value)
    assert "no upcaster from schema version 1" in str(caught.value)


def test_upcasters_must_fit_the_registered_version():
    registry = bank_registry()
    with pytest.raises(ValueError, match="cannot apply"):
        registry.register_upcaster("bank.MoneyDeposited", 1, lambda old: old)
    assert registry.type_of("bank.MoneyDeposited") is MoneyDeposited


def old_opened_log(db: Database, stored: str) -> Registry:
    """An account opened in schema version 1 (``stored``), read by a version 2 registry."""

    @dataclass(frozen=True)
    class OpenedV2:
        owner: str
        branch: str

    Bank(db, every=None).open_account("a1")
    db.execute("UPDATE bank.events SET event_data = $1", [stored])
    current = Registry()
    current.register_event("bank.AccountOpened", OpenedV2, version=2)
    return current


@pytest.mark.parametrize(
    ("stored", "problem"),
    [
        ('{"owner": "Ada"}', "the upcaster from schema version 1 refused it (KeyError: 'name')"),
        ('["Ada"]', "expected an object to upcast, got ['Ada']"),
    ],
)
def test_an_old_payload_the_upcaster_cannot_read_is_corrupt_and_says_why(db, stored, problem):
    registry = old_opened_log(db, stored)
    registry.register_upcaster(
        "bank.AccountOpened", 1, lambda old: {"owner": old["name"], "branch": "main"}
    )
    with pytest.raises(CorruptEventError) as caught:
        EventStore(db, registry, "bank.events").load_stream("bank.Account", "a1")
    message = str(caught.value)
    assert "event 1 of stream bank.Account 'a1'" in message
    assert "payload of 'bank.AccountOpened' does not fit its type" in message
    assert problem in message
