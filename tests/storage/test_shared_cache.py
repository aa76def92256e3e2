"""The aggregate cache where other processes write the same streams (PostgreSQL).

Each hit is checked against the stream's stored version, so a load through the cache
is never older than what another session committed, and a command needs no retry
because of it. A command run by ``AggregateRepository.update`` skips that check, since
its save checks the copy anyway: if the copy was stale, the command runs again on the
stored state, and its outcome is the same as if it had been checked.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.postgres_support import NO_PSYCOPG

pytest.importorskip("psycopg", reason=NO_PSYCOPG)

from mallbots.app import MallBots
from mallbots.es import AggregateRepository, ConcurrencyError, SteppingClock
from mallbots.es.cache import AggregateCache
from mallbots.es.chain import store_chain
from mallbots.es.postgres import PostgresDatabase, PostgresEventStore, postgres_snapshots
from mallbots.es.snapshots import EveryNEvents
from mallbots.stores import AddProduct, CreateStore, IncreaseProductPrice
from tests.es_support import Account, AccountError, bank_registry


class Session:
    """One session's bank on the shared server: its own connection, its own cache."""

    def __init__(self, url: str, cache: AggregateCache | None) -> None:
        self.database = PostgresDatabase.open(url)
        self.registry = bank_registry()
        self.events = PostgresEventStore(self.database, self.registry, "bank.events")
        snapshots = postgres_snapshots(self.database, self.registry, "bank.snapshots")
        self.cache = cache
        store = store_chain(
            self.events,
            snapshots(self.events),
            cache=cache,
            transactions=self.database,
            shared=True,
        )
        self.accounts = AggregateRepository(Account, store, clock=SteppingClock())

    def replayed(self, account_id: str) -> Account:
        """The account from its events alone: no cache, no snapshot."""
        return AggregateRepository(Account, self.events).load(account_id)

    def deposit(self, account_id: str, amount: Decimal) -> None:
        account = self.accounts.load(account_id)
        account.deposit(amount)
        self.accounts.save(account)


@pytest.fixture
def sessions(postgres_url):
    cached = Session(postgres_url, AggregateCache(100))
    other = Session(postgres_url, None)
    yield cached, other
    cached.database.close()
    other.database.close()


def test_a_hit_is_served_from_memory_while_the_stream_stands_still(sessions):
    cached, _ = sessions
    account = cached.accounts.new("a1")
    account.open("Ada")
    cached.accounts.save(account)
    cached.deposit("a1", Decimal("5"))
    hits = cached.cache.hits
    assert cached.accounts.load("a1").state() == cached.replayed("a1").state()
    assert cached.cache.hits == hits + 1


def test_another_session_s_commit_is_seen_by_the_next_load(sessions):
    cached, other = sessions
    account = cached.accounts.new("a1")
    account.open("Ada")
    cached.accounts.save(account)
    assert cached.accounts.load("a1").balance == 0  # kept in the cache

    other.deposit("a1", Decimal("10"))  # another process moves the stream

    hits, misses = cached.cache.hits, cached.cache.misses
    seen = cached.accounts.load("a1")
    assert seen.balance == Decimal("10")  # not the memento from before
    assert (cached.cache.hits, cached.cache.misses) == (hits, misses + 1)
    assert cached.cache.overtaken == 1
    assert "1 overtaken" in repr(cached.cache)
    seen.deposit(Decimal("1"))
    cached.accounts.save(seen)  # no conflict: it was loaded at the stream's head
    assert cached.replayed("a1").balance == Decimal("11")
    assert cached.accounts.load("a1").state() == cached.replayed("a1").state()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    writers=st.lists(st.booleans(), min_size=1, max_size=12),
    every=st.integers(min_value=1, max_value=4),
)
def test_a_cached_load_equals_a_replay_whoever_wrote_last(sessions, writers, every):
    cached, other = sessions
    cached.accounts.store.inner.inner.strategy = EveryNEvents(every)  # snapshots as chosen
    account_id = f"acct-{cached.database.last_position}-{len(writers)}-{every}"
    opened = cached.accounts.new(account_id)
    opened.open("Ada")
    cached.accounts.save(opened)
    for step, by_the_cache in enumerate(writers, start=1):
        (cached if by_the_cache else other).deposit(account_id, Decimal(step))
        loaded = cached.accounts.load(account_id)
        assert loaded.state() == cached.replayed(account_id).state()
        assert loaded.version == step + 1


def test_two_shops_with_caches_on_one_mall_see_each_other_s_commands(postgres_url):
    with (
        MallBots.open(postgres_url, seed=1, aggregate_cache=100) as here,
        MallBots.open(postgres_url, seed=2, aggregate_cache=100) as there,
    ):
        store = here.execute(CreateStore("Corner", "Level 1"))
        product = here.execute(AddProduct(store, "Kettle", "9.99"))
        here.execute(IncreaseProductPrice(product, "10.99"))  # the product is now cached here
        there.execute(IncreaseProductPrice(product, "11.99"))  # moved by the other process
        here.execute(IncreaseProductPrice(product, "12.49"))  # refused as lower if stale
        for shop in (here, there):
            assert shop.load("stores.Product", product).price == Decimal("12.49")
        assert here.aggregate_cache.hits > 0


# --- commands whose save checks the copy (AggregateRepository.update) --------------------


def heads_asked(session: Session, monkeypatch) -> list[str]:
    """The streams whose stored version ``session`` asks the server from now on."""
    asked: list[str] = []
    ask = session.events.stream_version

    def counted(name: str, stream_id: str) -> int:
        asked.append(stream_id)
        return ask(name, stream_id)

    monkeypatch.setattr(session.events, "stream_version", counted)
    return asked


def opened(session: Session, account_id: str, balance: str = "0") -> None:
    """An account opened through ``session`` (with ``balance`` deposited), then cached."""
    account = session.accounts.new(account_id)
    account.open("Ada")
    if Decimal(balance):
        account.deposit(Decimal(balance))
    session.accounts.save(account)


def test_a_command_on_a_current_copy_asks_the_server_nothing_before_its_save(sessions, monkeypatch):
    cached, _ = sessions
    opened(cached, "a1")
    asked = heads_asked(cached, monkeypatch)
    runs = []

    def deposit(account: Account) -> None:
        runs.append(account.version)
        account.deposit(Decimal("5"))

    saved = cached.accounts.update("a1", deposit)
    assert (asked, runs, saved.version) == ([], [1], 2)  # one run, and no question asked
    assert cached.replayed("a1").state() == saved.state()


def test_a_command_on_an_overtaken_copy_runs_again_on_the_stored_state(sessions, monkeypatch):
    cached, other = sessions
    opened(cached, "a1")  # cached here at balance 0
    other.deposit("a1", Decimal("10"))
    runs = []

    def deposit(account: Account) -> None:
        runs.append(account.balance)
        account.deposit(Decimal("1"))

    saved = cached.accounts.update("a1", deposit)
    assert runs == [Decimal("0"), Decimal("10")]  # the copy, refused by its save; the stream
    assert saved.balance == cached.replayed("a1").balance == Decimal("11")
    assert cached.accounts.load("a1").state() == cached.replayed("a1").state()


def test_a_refusal_on_an_overtaken_copy_is_asked_again_of_the_stored_state(sessions):
    cached, other = sessions
    opened(cached, "a1")  # balance 0 here: a withdrawal would be refused
    other.deposit("a1", Decimal("10"))
    saved = cached.accounts.update("a1", lambda a: a.withdraw(Decimal("4")))
    assert saved.balance == cached.replayed("a1").balance == Decimal("6")


def test_a_refusal_on_a_current_copy_stands_and_writes_nothing(sessions):
    cached, _ = sessions
    opened(cached, "a1", balance="3")
    with pytest.raises(AccountError, match="cannot withdraw"):
        cached.accounts.update("a1", lambda a: a.withdraw(Decimal("4")))
    assert cached.replayed("a1").version == 2  # opened, and the deposit of 3


def test_a_command_that_changes_nothing_on_an_overtaken_copy_runs_again(sessions):
    cached, other = sessions
    opened(cached, "a1")
    other.deposit("a1", Decimal("10"))

    def empty_it(account: Account) -> None:
        if account.balance:  # nothing to do on the stale copy, which shows 0
            account.withdraw(account.balance)

    saved = cached.accounts.update("a1", empty_it)
    assert saved.balance == cached.replayed("a1").balance == 0
    assert saved.version == 3


def test_inside_a_transaction_each_hit_is_checked_first(sessions, monkeypatch):
    cached, _ = sessions
    opened(cached, "a1")
    asked = heads_asked(cached, monkeypatch)
    with cached.database.transaction():
        cached.accounts.update("a1", lambda a: a.deposit(Decimal("1")))
    assert asked == ["a1"]  # a conflict there would end the caller's whole transaction


def test_a_conflict_with_a_save_made_while_the_command_ran_is_still_refused(sessions):
    cached, other = sessions
    opened(cached, "a1")

    def twice(account: Account) -> None:
        other.deposit("a1", Decimal("10"))  # another process saves meanwhile, each run
        account.deposit(Decimal("1"))

    with pytest.raises(ConcurrencyError):
        cached.accounts.update("a1", twice)  # overtaken in both runs: the second is a conflict
    assert cached.replayed("a1").balance == Decimal("20")  # only the other's deposits


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(writers=st.lists(st.sampled_from(["update", "load", "other"]), min_size=1, max_size=12))
def test_commands_run_by_update_equal_a_replay_whoever_wrote_last(sessions, writers):
    cached, other = sessions
    account_id = f"upd-{cached.database.last_position}-{len(writers)}"
    opened(cached, account_id)
    for step, writer in enumerate(writers, start=1):
        amount = Decimal(step)
        if writer == "update":  # on the cached copy, which the other's saves may overtake
            saved = cached.accounts.update(account_id, lambda a, amount=amount: a.deposit(amount))
            assert saved.state() == cached.replayed(account_id).state()
        else:  # no load through the cache in between: that would bring the copy up to date
            (cached if writer == "load" else other).deposit(account_id, amount)
    assert cached.replayed(account_id).balance == sum(range(1, len(writers) + 1))
    assert cached.accounts.load(account_id).state() == cached.replayed(account_id).state()
