"""Three schema versions of one event in one log, read end to end through a chain of upcasters.

Version 1 stored whole cents, version 2 euros, version 3 an amount and its currency. Each
release wrote events in its own shape; the log keeps them all. Read by the current
release, every one arrives as version 3, through upcasters applied in order (1 to 2, then
2 to 3: the second needs the field the first makes), whichever way it is read: a stream,
the global log, a past state, a read model caught up or rebuilt.
"""

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
    Projector,
    Registry,
    SeededIds,
    SteppingClock,
)
from mallbots.es.errors import NewerSchemaVersionError
from mallbots.es.time_travel import aggregate_at, read_model_at
from tests.es_support import Account, AccountOpened, Balances


@dataclass(frozen=True)
class CentsDeposited:
    """Version 1."""

    cents: int


@dataclass(frozen=True)
class EurosDeposited:
    """Version 2."""

    euros: Decimal


@dataclass(frozen=True)
class MoneyDepositedV3:
    """Version 3: the current one."""

    amount: Decimal
    currency: str


DEPOSITED = "bank.MoneyDeposited"


def cents_to_euros(old: dict) -> dict:
    return {"euros": str(Decimal(old["cents"]) / 100)}


def euros_to_money(old: dict) -> dict:
    return {"amount": old["euros"], "currency": "EUR"}


def registry_of_release(release: int) -> Registry:
    """The registry each release had: its own payload shape, upcasters for the older ones."""
    registry = Registry()
    registry.register_event("bank.AccountOpened", AccountOpened)
    shape = {1: CentsDeposited, 2: EurosDeposited, 3: MoneyDepositedV3}[release]
    registry.register_event(DEPOSITED, shape, version=release)
    for from_version, upcaster in [(1, cents_to_euros), (2, euros_to_money)][: release - 1]:
        registry.register_upcaster(DEPOSITED, from_version, upcaster)
    return registry


class AccountV3(Account):
    """An account of any release: each records deposits in its own shape."""

    def apply(self, event):
        match event.payload:
            case CentsDeposited(cents=cents):
                amount = Decimal(cents) / 100
            case EurosDeposited(euros=amount) | MoneyDepositedV3(amount=amount):
                pass
            case _:
                return super().apply(event)
        self.balance += amount
        self.history = (*self.history, "MoneyDeposited")


def repository(db: Database, release: int) -> AggregateRepository:
    store = EventStore(db, registry_of_release(release), "bank.events")
    return AggregateRepository(
        AccountV3, store, clock=SteppingClock(), ids=SeededIds(release * 100)
    )


def write_three_releases(db: Database) -> None:
    """Account a1 opened by release 1; each release deposits in its own shape."""
    first = repository(db, 1)
    account = first.new("a1")
    account.open("Ada")
    account.record(DEPOSITED, CentsDeposited(1999))
    first.save(account)
    for release, payload in [(2, EurosDeposited(Decimal("5.25"))), (3, None)]:
        later = repository(db, release)
        account = later.load("a1")
        account.record(DEPOSITED, payload or MoneyDepositedV3(Decimal("0.76"), "EUR"))
        later.save(account)


EXPECTED = [
    MoneyDepositedV3(Decimal("19.99"), "EUR"),
    MoneyDepositedV3(Decimal("5.25"), "EUR"),
    MoneyDepositedV3(Decimal("0.76"), "EUR"),
]


def test_each_release_stored_its_own_shape_and_version(db):
    write_three_releases(db)
    stored = db.execute(
        "SELECT event_data, metadata FROM bank.events WHERE event_name = $1 ORDER BY position",
        [DEPOSITED],
    ).fetchall()
    assert stored == [
        ('{"cents":1999}', "{}"),
        ('{"euros":"5.25"}', '{"schema_version":2}'),
        ('{"amount":"0.76","currency":"EUR"}', '{"schema_version":3}'),
    ]


def test_a_stream_and_the_log_read_every_version_as_the_current_one(db):
    write_three_releases(db)
    registry = registry_of_release(3)
    stream = EventStore(db, registry, "bank.events").load_stream("bank.Account", "a1")
    assert [event.payload for event in stream[1:]] == EXPECTED
    assert [event.payload for event in EventLog(db, registry).events()][1:] == EXPECTED
    assert repository(db, 3).load("a1").balance == Decimal("26.00")


def test_the_past_reads_through_the_chain_too(db):
    write_three_releases(db)
    events = EventStore(db, registry_of_release(3), "bank.events")
    balances = [aggregate_at(AccountV3, events, "a1", version=v).balance for v in (2, 3, 4)]
    assert balances == [Decimal("19.99"), Decimal("25.24"), Decimal("26.00")]
    log = EventLog(db, registry_of_release(3))
    (row,) = read_model_at(Balances("bank"), log, 3)["bank.balances"].itertuples(index=False)
    assert (row.balance, row.changes) == (Decimal("25.24"), 3)


@pytest.mark.parametrize("batch", [1, 2, 10])
def test_a_read_model_caught_up_and_rebuilt_over_three_versions_agrees(db, batch):
    write_three_releases(db)
    projector = Projector(db, EventLog(db, registry_of_release(3)), batch_size=batch)
    projector.add(Balances("bank"), inline=False)
    projector.catch_up()
    expected = [("a1", "Ada", Decimal("26.00"), False, 4)]
    assert db.execute("SELECT * FROM bank.balances").fetchall() == expected
    projector.rebuild()
    assert db.execute("SELECT * FROM bank.balances").fetchall() == expected


def test_an_older_release_refuses_the_newer_version_rather_than_misread_it(db):
    """Release 2 on a log release 3 wrote to: the version-3 event is refused, named."""
    write_three_releases(db)
    stream = EventStore(db, registry_of_release(2), "bank.events").load_stream
    with pytest.raises(CorruptEventError, match=r"event 4 of stream bank\.Account 'a1'"):
        stream("bank.Account", "a1")


@dataclass(frozen=True)
class CentsWithNote:
    """A version 2 that kept version 1's field and added one: it would pass for a version 1."""

    cents: int
    note: str


@pytest.mark.parametrize("release", [1, 2])
@pytest.mark.parametrize("read", ["stream", "log"])
def test_an_older_release_says_the_version_is_newer_than_it_understands(db, release, read):
    """Not "missing field": the reader is told a later release wrote it, and which."""
    write_three_releases(db)
    registry = registry_of_release(release)
    with pytest.raises(CorruptEventError) as refused:
        if read == "stream":
            EventStore(db, registry, "bank.events").load_stream("bank.Account", "a1")
        else:
            list(EventLog(db, registry).events())
    assert refused.value.version == release + 2  # the first deposit a later release wrote
    assert (
        f"stored at schema version {release + 1}, newer than this release understands "
        f"(it reads up to version {release})"
    ) in str(refused.value)
    assert "missing" not in str(refused.value)


def test_a_newer_payload_that_would_fit_the_old_shape_is_refused_not_misread(db):
    """Release 1 must not take a version-2 deposit for cents because the field is there."""
    newer = Registry()
    newer.register_event("bank.AccountOpened", AccountOpened)
    newer.register_event(DEPOSITED, CentsWithNote, version=2)
    account = AccountV3("a1", clock=SteppingClock(), ids=SeededIds(1))
    account.open("Ada")
    opened = account.events[0]
    deposited = opened._replace(
        id="6f1c3a4e-1b2c-4d5e-8f90-123456789abc",
        name=DEPOSITED,
        payload=CentsWithNote(500, "refund"),
        aggregate_version=2,
    )
    EventStore(db, newer, "bank.events").append("bank.Account", "a1", 0, [opened, deposited])
    old = registry_of_release(1)
    with pytest.raises(CorruptEventError, match="newer than this release understands"):
        EventStore(db, old, "bank.events").load_stream("bank.Account", "a1")
    with pytest.raises(NewerSchemaVersionError) as refused:
        old.deserialize(DEPOSITED, '{"cents":500,"note":"refund"}', version=2)
    assert (refused.value.stored, refused.value.known) == (2, 1)


def test_a_payload_given_with_its_old_version_goes_up_the_whole_chain():
    registry = registry_of_release(3)
    for version, text in [(1, '{"cents":1999}'), (2, '{"euros":"19.99"}')]:
        assert registry.deserialize(DEPOSITED, text, version) == EXPECTED[0]


def test_metadata_json_cannot_hold_is_refused_for_an_event_of_a_later_version_too(db):
    """Its metadata gains the schema version (2) before it is written, a path of its own:
    the refusal names the event and its version in the stream (4), and nothing is written."""
    release_2 = repository(db, 2)
    account = release_2.new("a1")
    account.open("Ada")
    account.record(DEPOSITED, EurosDeposited(Decimal("1")))
    account.record(DEPOSITED, EurosDeposited(Decimal("2")))
    account.record(DEPOSITED, EurosDeposited(Decimal("3")), {"tags": {"a", "b"}})
    with pytest.raises(
        ValueError, match=r"^metadata of event bank\.MoneyDeposited \(version 4\) cannot be stored"
    ):
        release_2.save(account)
    assert db.execute("SELECT count(*) FROM bank.events").fetchone() == (0,)
