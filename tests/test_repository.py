"""The repository and the middleware chain, in the book's order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from mallbots.es import (
    AggregateEvent,
    AggregateNotFoundError,
    AggregateRepository,
    EventDispatcher,
    HandlerError,
    SeededIds,
    SteppingClock,
    publisher,
    snapshots,
    with_middleware,
)
from tests.es_support import Account, AccountError, Bank


def test_loading_an_unknown_id_is_a_not_found_error(bank):
    with pytest.raises(AggregateNotFoundError) as caught:
        bank.accounts.load("nobody")
    assert "bank.Account 'nobody' not found" in str(caught.value)


def test_asking_for_a_new_aggregate_when_none_exists(bank):
    account = bank.accounts.load_or_new("nobody")
    assert account.version == 0 and account.owner == ""


def test_saving_without_changes_writes_nothing(bank):
    account = bank.open_account("a1")
    assert bank.accounts.save(account) == []
    assert bank.database.execute("SELECT count(*) FROM bank.events").fetchone()[0] == 1


def test_load_change_save_round_trip(bank):
    bank.open_account("a1")
    account = bank.accounts.load("a1")
    account.deposit(Decimal("10.00"))
    account.withdraw(Decimal("2.50"))
    stored = bank.accounts.save(account)
    assert [e.aggregate_version for e in stored] == [2, 3]
    assert (account.version, account.events) == (3, ())
    assert bank.accounts.load("a1").balance == Decimal("7.50")


def test_update_is_a_load_a_change_and_a_save(bank):
    bank.open_account("a1")
    account = bank.accounts.update("a1", lambda a: a.deposit(Decimal("10.00")))
    assert (account.version, account.events, account.balance) == (2, (), Decimal("10.00"))
    assert bank.accounts.load("a1").state() == account.state()


def test_update_passes_on_a_refusal_and_writes_nothing(bank):
    bank.open_account("a1")
    with pytest.raises(AccountError, match="cannot withdraw"):
        bank.accounts.update("a1", lambda a: a.withdraw(Decimal("1")))
    assert bank.database.execute("SELECT count(*) FROM bank.events").fetchone()[0] == 1
    with pytest.raises(AggregateNotFoundError):
        bank.accounts.update("nobody", lambda a: a.deposit(Decimal("1")))


def test_update_saves_nothing_when_the_change_records_nothing(bank):
    bank.open_account("a1")
    runs = []
    assert bank.accounts.update("a1", runs.append).version == 1
    assert len(runs) == 1  # one run: with no cache in front, the load was the stored state
    assert bank.database.execute("SELECT count(*) FROM bank.events").fetchone()[0] == 1


def test_middleware_composes_first_outermost():
    calls = []

    def tag(name):
        def wrap(inner):
            class Tagged:
                def load(self, aggregate):
                    calls.append(f"{name} load")
                    inner.load(aggregate)

                def save(self, aggregate):
                    calls.append(f"{name} save")
                    return inner.save(aggregate)

            return Tagged()

        return wrap

    class Innermost:
        def load(self, aggregate):
            calls.append("store load")

        def save(self, aggregate):
            calls.append("store save")
            return []

    store = with_middleware(Innermost(), tag("A"), tag("B"))
    store.save(None)
    assert calls == ["A save", "B save", "store save"]


def test_a_failing_handler_is_reported_but_the_events_stay_saved(db):
    bank = Bank(db)

    def broken(event):
        raise RuntimeError("read model down")

    bank.dispatcher.subscribe(broken, names=["bank.MoneyDeposited"])
    account = bank.open_account("a1")
    account.deposit(Decimal("1"))
    with pytest.raises(HandlerError) as caught:
        bank.accounts.save(account)
    assert "the event itself is stored" in str(caught.value)
    assert account.version == 2 and account.events == ()
    assert bank.accounts.load("a1").balance == Decimal("1")


def test_the_publisher_outside_snapshots_sees_events_after_their_snapshot(db):
    bank = Bank(db, every=None)
    dispatcher = EventDispatcher()
    seen = []
    dispatcher.subscribe(
        lambda event: seen.append(db.execute("SELECT count(*) FROM bank.snapshots").fetchone()[0])
    )
    bank.accounts.store = with_middleware(
        bank.events,
        publisher(dispatcher),
        snapshots(db, bank.registry, "bank.snapshots", lambda a: True),
    )
    bank.open_account("a1")
    assert seen == [1]


def test_handlers_subscribed_first_see_an_event_before_the_reactions_to_it(db):
    bank = Bank(db, every=None)
    seen: list[tuple[str, int]] = []

    def react(event) -> None:  # a deposit of 10 or more earns a bonus, saved at once
        seen.append(("reaction", event.position))
        if event.payload.amount >= 10:
            account = bank.accounts.load(event.aggregate_id)
            account.deposit(Decimal("1"))
            bank.accounts.save(account)

    bank.dispatcher.subscribe(lambda event: seen.append(("every", event.position)))
    bank.dispatcher.subscribe(react, names=["bank.MoneyDeposited"])
    bank.dispatcher.subscribe(lambda event: seen.append(("first", event.position)), first=True)
    account = bank.open_account("a1")
    seen.clear()
    account.deposit(Decimal("10"))
    bank.accounts.save(account)
    first_seen = [position for who, position in seen if who == "first"]
    assert first_seen == [2, 3]  # in log order, though the bonus was saved mid-reaction
    assert seen[0] == ("first", 2)
    assert seen.index(("reaction", 2)) < seen.index(("first", 3))


def test_a_handler_subscribed_after_events_were_published_gets_the_next_ones():
    """The dispatcher remembers each name's handlers; a subscription must refresh that."""
    dispatcher = EventDispatcher()
    seen: list[str] = []
    event = AggregateEvent(
        "e1", "bank.MoneyDeposited", None, datetime.now(UTC), "bank.Account", "a", 1
    )
    dispatcher.publish(event)
    dispatcher.subscribe(lambda e: seen.append("named"), names=["bank.MoneyDeposited"])
    dispatcher.publish(event)
    dispatcher.subscribe(lambda e: seen.append("every"))
    dispatcher.subscribe(lambda e: seen.append("first"), first=True)
    dispatcher.publish(event)
    assert seen == ["named", "first", "named", "every"]


def test_an_unsubscribed_handler_gets_no_more_events():
    """A bulk run's live read models leave the shop's dispatcher when the run ends."""
    dispatcher = EventDispatcher()
    seen: list[str] = []
    event = AggregateEvent(
        "e1", "bank.MoneyDeposited", None, datetime.now(UTC), "bank.Account", "a", 1
    )

    class Counter:
        def handle(self, event: AggregateEvent) -> None:
            seen.append("counter")

    counter = Counter()
    dispatcher.subscribe(counter.handle, names=["bank.MoneyDeposited"])
    dispatcher.subscribe(counter.handle)
    dispatcher.subscribe(lambda e: seen.append("kept"))
    dispatcher.publish(event)
    dispatcher.unsubscribe(counter.handle)  # a bound method equal to the one subscribed
    dispatcher.publish(event)
    assert seen == ["counter", "counter", "kept", "kept"]
    assert dispatcher.handlers_for("bank.MoneyDeposited") == dispatcher.handlers_for("other")


def test_a_repository_makes_aggregates_that_record_with_its_clock_and_ids(db):
    """Two runs with the same seed and clock record the very same events."""
    start = datetime(2025, 3, 1, 12, tzinfo=UTC)
    runs = []
    for _ in range(2):
        repository = AggregateRepository(
            Account, Bank(db, every=None).events, clock=SteppingClock(start), ids=SeededIds(42)
        )
        account = repository.new("a1")
        account.open("Ada")
        account.deposit(Decimal("1"))
        runs.append([(event.id, event.occurred_at) for event in account.events])
    first_ids = SeededIds(42)
    assert (
        runs[0]
        == runs[1]
        == [
            (first_ids(), start),
            (first_ids(), start + timedelta(seconds=1)),
        ]
    )
