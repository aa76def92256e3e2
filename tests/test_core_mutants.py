"""What the core tells its callers, checked field by field: mutants `make mutants` found alive.

Each test here was written against a mutant of ``mallbots/es`` that the rest of the suite
let live (see ``tests/mutants.md``): a conflict naming the wrong stream, a refusal naming
the wrong projections, a projector touching read models it was not asked about.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from mallbots.es import (
    AggregateRepository,
    ConcurrencyError,
    CorruptEventError,
    Database,
    EventLog,
    EventStore,
    EveryNEvents,
    Registry,
    RegistryError,
    SnapshotStore,
)
from mallbots.es.projector import Projector
from tests.es_support import Account, AccountOpened, Balances, Bank, bank_registry
from tests.test_event_store import account_with_events, pending
from tests.test_projections import busy_bank_on


def conflict_of(caught: pytest.ExceptionInfo[ConcurrencyError]) -> tuple:
    error = caught.value
    return error.stream_name, error.stream_id, error.expected, error.actual


# --- the event store ---------------------------------------------------------------------


def test_a_batch_conflict_seen_in_the_head_cache_names_the_stream_and_both_versions(db):
    store = EventStore(db, bank_registry(), "bank.events")
    store.save(account_with_events("b", 2))  # b is at 3, and the store knows it
    stale = account_with_events("b", 0)
    with pytest.raises(ConcurrencyError) as caught:
        store.append_many([pending(account_with_events("a", 1)), pending(stale)])
    assert conflict_of(caught) == ("bank.Account", "b", 0, 3)


def test_a_batch_conflict_only_the_table_sees_names_the_stream_and_both_versions(db):
    EventStore(db, bank_registry(), "bank.events").save(account_with_events("b", 2))
    fresh = EventStore(db, bank_registry(), "bank.events")  # knows no heads
    behind = Account("b")
    behind.load_event(fresh.load_stream("bank.Account", "b")[0])
    fresh.forget_heads()
    behind.deposit(Decimal("1"))  # believes b is at 1; it is at 3
    with pytest.raises(ConcurrencyError) as caught:
        fresh.append_many([pending(account_with_events("a", 0)), pending(behind)])
    assert conflict_of(caught) == ("bank.Account", "b", 1, 3)


def test_a_conflict_the_primary_key_refuses_names_the_stream_and_both_versions(db):
    bank = Bank(db, every=None)
    bank.open_account("a")
    with pytest.raises(ConcurrencyError) as caught, db.transaction():
        first, second = bank.accounts.load("a"), bank.accounts.load("a")
        first.deposit(Decimal("1"))
        bank.accounts.save(first)
        second.deposit(Decimal("2"))
        bank.accounts.save(second)
    assert conflict_of(caught) == ("bank.Account", "a", 1, 2)


@pytest.mark.parametrize("version", [True, "1", 1.0, None])
def test_an_expected_version_must_be_an_int(db, version):
    store = EventStore(db, bank_registry(), "bank.events")
    account = account_with_events("a", 0)
    with pytest.raises(TypeError, match=r"an expected version is an int, not "):
        store.append("bank.Account", "a", version, account.events)


def test_an_expected_version_cannot_be_negative(db):
    store = EventStore(db, bank_registry(), "bank.events")
    account = account_with_events("a", 0)
    with pytest.raises(ValueError, match="an expected version cannot be negative: -1"):
        store.append("bank.Account", "a", -1, account.events)


# --- snapshots ---------------------------------------------------------------------------


def test_a_snapshot_interval_of_one_is_allowed_and_zero_is_not():
    assert EveryNEvents(1).n == 1
    with pytest.raises(ValueError, match="a snapshot interval must be at least 1"):
        EveryNEvents(0)


def test_a_snapshot_store_snapshots_every_three_events_unless_told(db):
    registry = bank_registry()
    events = EventStore(db, registry, "bank.events")
    store = SnapshotStore(events, db, registry, "bank.snapshots")
    repository = AggregateRepository(Account, store)
    account = repository.new("a1")
    account.open("Ada")
    account.deposit(Decimal("1"))
    repository.save(account)  # version 2: none yet
    assert db.execute("SELECT count(*) FROM bank.snapshots").fetchone() == (0,)
    account.deposit(Decimal("1"))
    repository.save(account)
    assert db.execute("SELECT stream_version FROM bank.snapshots").fetchall() == [(3,)]


# --- the registry ------------------------------------------------------------------------


@dataclass(frozen=True)
class FirstShape:
    a: int


@dataclass(frozen=True)
class SecondShape:
    b: int


def test_a_snapshot_type_is_found_by_its_own_name_among_several():
    registry = Registry()
    registry.register_event("x.Happened", SecondShape)
    registry.register_snapshot("x.FirstV1", FirstShape)
    registry.register_snapshot("x.SecondV1", SecondShape)
    assert registry.snapshot_name_of(SecondShape) == "x.SecondV1"
    assert registry.snapshot_name_of(SecondShape) == "x.SecondV1"  # and again, remembered
    assert registry.snapshot_name_of(FirstShape) == "x.FirstV1"
    with pytest.raises(RegistryError, match="no snapshot name is registered for AccountOpened"):
        registry.snapshot_name_of(AccountOpened)


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


# --- the projector -----------------------------------------------------------------------


def two_projections(bank: Bank) -> Projector:
    projector = Projector(bank.database, EventLog(bank.database, bank.registry), 4)
    projector.add(Balances("first"), inline=False)
    projector.add(Balances("second"), inline=False)
    return projector


def test_catch_up_and_rebuild_touch_only_the_projections_named(db):
    bank = Bank(db, every=None)
    busy_bank_on(bank)
    head = EventLog(db, bank.registry).head()
    projector = two_projections(bank)
    assert projector.catch_up("first.balances") == head
    assert [projector.position(n) for n in ("first.balances", "second.balances")] == [head, 0]
    assert projector.rebuild(["first.balances"]) == head
    assert projector.position("second.balances") == 0
    assert db.execute("SELECT count(*) FROM second.balances").fetchone() == (0,)
    assert projector.rebuild() == 2 * head  # every projection, counted
    assert projector.catch_up(window=100) == 0


def test_a_set_based_rebuild_is_refused_naming_each_projection_without_sql(db):
    projector = two_projections(Bank(db, every=None))
    with pytest.raises(ValueError, match=r"^no set-based rebuild for: first\.balances, second\."):
        projector.rebuild(set_based=True)


def test_an_unknown_or_repeated_projection_name_is_refused_naming_what_there_is(db):
    bank = Bank(db, every=None)
    empty = Projector(db, EventLog(db, bank.registry))
    with pytest.raises(KeyError, match=r"no projection named 'nope' \(registered: none\)"):
        empty.position("nope")
    projector = two_projections(bank)
    with pytest.raises(KeyError, match=r"\(registered: first\.balances, second\.balances\)"):
        projector.catch_up(["first.balances", "nope"])
    with pytest.raises(ValueError, match=r"a projection named 'first\.balances' is already"):
        projector.add(Balances("first"))


def test_status_names_each_projections_mode(db):
    bank = Bank(db, every=None)
    projector = Projector(db, EventLog(db, bank.registry))
    projector.add(Balances("live"))
    projector.add(Balances("later"), inline=False)
    status = projector.status()
    assert list(status.columns) == ["projection", "mode", "position", "head", "lag"]
    assert status["mode"].tolist() == ["inline", "catch-up"]


def test_an_event_is_handed_on_to_every_inline_projection_behind_it(db):
    """The first projection has seen the event again delivered; the second has not."""
    bank = Bank(db, every=None)
    projector = Projector(db, EventLog(db, bank.registry))
    projector.add(Balances("ahead"))
    bank.dispatcher.subscribe(projector.handle)
    bank.open_account("a1")
    projector.add(Balances("behind"))  # starts at 0
    projector.add(Balances("elsewhere"), inline=False)
    (opened,) = bank.published
    projector.handle(opened)
    assert projector.position("behind.balances") == 1
    assert projector.position("elsewhere.balances") == 0  # not inline: left to catch-up
    unsaved = opened._replace(position=None)
    with pytest.raises(ValueError, match="has no position: only stored events are projected"):
        projector.handle(unsaved)
