"""The aggregate cache: a load from memory equals a replay of the log, and hides no conflict."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mallbots.es import AggregateRepository, ConcurrencyError, Database, EventStore, SteppingClock
from mallbots.es.cache import AggregateCache
from tests.es_support import Account, AccountError, Bank

KEY = ("bank.Account", "a1")


def cached_bank(db: Database, maxsize: int = 100, every: int | None = 3) -> Bank:
    return Bank(db, every=every, cache=AggregateCache(maxsize))


def from_the_log(db: Database, bank: Bank, account_id: str) -> Account:
    """The account replayed from its events alone: no cache, no snapshot."""
    events = EventStore(db, bank.registry, "bank.events")
    return AggregateRepository(Account, events).load(account_id)


def stream_versions(db: Database, account_id: str) -> list[int]:
    rows = db.execute(
        "SELECT stream_version FROM bank.events WHERE stream_id = $1 ORDER BY 1", [account_id]
    ).fetchall()
    return [version for (version,) in rows]


# --- the cache on its own ----------------------------------------------------------------------


def test_a_state_read_before_the_entry_changed_is_not_kept():
    cache = AggregateCache()
    read_at = cache.tick()  # a load begins ...
    saved_at = cache.evict(KEY)  # ... a save of the same aggregate begins meanwhile
    assert cache.put(KEY, {"id": "a1", "_version": 2}, saved_at)  # the save commits
    assert not cache.put(KEY, {"id": "a1", "_version": 1}, read_at)  # the load ends, late
    assert cache.get(KEY)["_version"] == 2


def test_a_save_committing_after_a_load_that_missed_it_still_wins():
    cache = AggregateCache()
    saved_at = cache.evict(KEY)  # a save begins: the entry goes
    read_at = cache.tick()  # a load misses, and reads the table before the save commits
    assert cache.put(KEY, {"id": "a1", "_version": 1}, read_at)
    assert cache.put(KEY, {"id": "a1", "_version": 2}, saved_at)  # the save commits: later
    assert cache.get(KEY)["_version"] == 2
    assert not cache.put(KEY, {"id": "a1", "_version": 2}, saved_at)  # not again, same one


def test_a_state_read_after_the_last_change_is_kept():
    cache = AggregateCache()
    cache.evict(KEY)
    read_at = cache.tick()
    assert cache.put(KEY, {"id": "a1", "_version": 1}, read_at)
    assert KEY in cache and len(cache) == 1


def test_the_least_recently_used_go_first_and_their_late_states_are_refused():
    cache = AggregateCache(maxsize=2)
    keys = [("bank.Account", f"a{i}") for i in range(3)]
    read_early = cache.tick()
    for key in keys[:2]:
        cache.put(key, {"id": key[1]}, cache.tick())
    cache.get(keys[0])  # a0 used again: a1 is now the least recently used
    cache.put(keys[2], {"id": "a2"}, cache.tick())
    assert [key in cache for key in keys] == [True, False, True]
    # a1 was forgotten: a state of it read before that is refused, not taken on trust
    assert not cache.put(keys[1], {"id": "a1"}, read_early)
    assert cache.put(keys[1], {"id": "a1"}, cache.tick())


def test_clear_forgets_everything_and_refuses_states_read_before_it():
    cache = AggregateCache()
    read_at = cache.tick()
    cache.put(KEY, {"id": "a1"}, read_at)
    cache.clear()
    assert len(cache) == 0 and KEY not in cache
    assert not cache.put(KEY, {"id": "a1"}, read_at)


def test_a_cache_holds_at_least_one_aggregate():
    with pytest.raises(ValueError, match="at least one"):
        AggregateCache(0)


# --- in front of an aggregate store ------------------------------------------------------------


def test_a_command_after_the_first_load_reads_from_memory(db):
    bank = cached_bank(db)
    bank.open_account("a1")  # the save leaves its state in the cache
    for _ in range(3):
        account = bank.accounts.load("a1")
        account.deposit(Decimal("2"))
        bank.accounts.save(account)
    assert (bank.cache.hits, bank.cache.misses) == (3, 0)
    loaded = bank.accounts.load("a1")
    assert loaded.state() == from_the_log(db, bank, "a1").state()
    assert (loaded.version, loaded.balance) == (4, Decimal("6"))


def test_a_miss_loads_from_the_store_and_keeps_the_result(db):
    Bank(db).open_account("a1")  # saved by a bank without a cache
    bank = cached_bank(db)
    first, second = bank.accounts.load("a1"), bank.accounts.load("a1")
    assert (bank.cache.hits, bank.cache.misses) == (1, 1)
    assert first.state() == second.state() and first is not second


def test_an_unknown_aggregate_is_not_kept(db):
    bank = cached_bank(db)
    with pytest.raises(Exception, match="not found"):
        bank.accounts.load("nobody")
    assert len(bank.cache) == 0


def test_changes_never_saved_do_not_reach_the_next_load(db):
    bank = cached_bank(db)
    bank.open_account("a1")
    changed = bank.accounts.load("a1")
    changed.deposit(Decimal("5"))
    changed.owner = "mutated by hand"
    with pytest.raises(AccountError):
        changed.withdraw(Decimal("100"))
    again = bank.accounts.load("a1")
    assert (again.balance, again.owner, again.version, again.events) == (0, "Ada", 1, ())


def test_a_loaded_copy_records_with_the_repositorys_clock_and_ids(db):
    bank = cached_bank(db)
    bank.open_account("a1")
    account = bank.accounts.load("a1")
    due = bank.accounts.clock.peek()
    account.deposit(Decimal("1"))
    assert account.events[0].occurred_at == due  # the clock moved on: it is the same one
    assert bank.accounts.clock.peek() > due


def test_a_copy_overtaken_by_another_writer_is_refused_and_the_next_load_sees_it(db):
    cached, other = cached_bank(db, every=None), Bank(db, every=None, seed=9)
    cached.open_account("a1")
    elsewhere = other.accounts.load("a1")
    elsewhere.deposit(Decimal("10"))
    other.accounts.save(elsewhere)  # written around the cache

    stale = cached.accounts.load("a1")
    assert stale.balance == 0  # the documented limit: the cache has not seen it yet
    stale.deposit(Decimal("1"))
    with pytest.raises(ConcurrencyError):
        cached.accounts.save(stale)
    assert stream_versions(db, "a1") == [1, 2]  # nothing written

    fresh = cached.accounts.load("a1")  # the refusal took the entry out
    assert fresh.balance == Decimal("10")
    fresh.deposit(Decimal("1"))
    cached.accounts.save(fresh)
    assert from_the_log(db, cached, "a1").balance == Decimal("11")
    assert cached.accounts.load("a1").state() == from_the_log(db, cached, "a1").state()


def test_a_save_inside_a_transaction_is_kept_only_once_it_commits(db):
    bank = cached_bank(db)
    bank.open_account("a1")
    with db.transaction():
        account = bank.accounts.load("a1")
        account.deposit(Decimal("3"))
        bank.accounts.save(account)
        assert KEY not in bank.cache  # taken out until the commit
        inside = bank.accounts.load("a1")  # so a load inside reads the uncommitted rows
        assert inside.balance == Decimal("3")
    assert KEY in bank.cache
    assert bank.accounts.load("a1").state() == from_the_log(db, bank, "a1").state()


def test_a_rolled_back_save_leaves_nothing_of_itself_in_the_cache(db):
    bank = cached_bank(db)
    bank.open_account("a1")
    with pytest.raises(RuntimeError), db.transaction():
        account = bank.accounts.load("a1")
        account.deposit(Decimal("3"))
        bank.accounts.save(account)
        bank.accounts.load("a1")  # a load of the uncommitted state, inside
        raise RuntimeError("the rest of the command failed")
    loaded = bank.accounts.load("a1")
    assert (loaded.version, loaded.balance) == (1, 0)
    assert stream_versions(db, "a1") == [1]


def test_threads_racing_through_one_cache_lose_no_deposit(tmp_path):
    with Database.open(tmp_path / "race.duckdb") as db:
        bank = cached_bank(db, maxsize=2, every=2)
        ids = ["a1", "a2", "a3"]
        for account_id in ids:
            bank.open_account(account_id)
        landed = {account_id: 0 for account_id in ids}
        conflicts = []
        lock = threading.Lock()

        def deposit_many(offset: int) -> None:
            for i in range(40):
                account_id = ids[(i + offset) % len(ids)]
                while True:
                    account = bank.accounts.load(account_id)
                    account.deposit(Decimal("1"))
                    try:
                        bank.accounts.save(account)
                    except ConcurrencyError:
                        conflicts.append(account_id)
                        continue
                    with lock:
                        landed[account_id] += 1
                    break

        threads = [threading.Thread(target=deposit_many, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sum(landed.values()) == 160
        for account_id in ids:
            replayed = from_the_log(db, bank, account_id)
            assert replayed.balance == landed[account_id]
            assert stream_versions(db, account_id) == list(range(1, landed[account_id] + 2))
            assert bank.accounts.load(account_id).state() == replayed.state()


# --- the property ------------------------------------------------------------------------------

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500"), places=2)
steps = st.lists(
    st.tuples(
        st.sampled_from(["a1", "a2", "a3"]),
        st.sampled_from(["deposit", "withdraw", "rename", "close", "unsaved", "rolled back"]),
        amounts,
    ),
    max_size=30,
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=steps, maxsize=st.sampled_from([1, 2, 100]), every=st.sampled_from([None, 1, 3]))
def test_a_cached_load_always_equals_a_replay_of_the_log(script, maxsize, every):
    """Whatever commands ran (refused, unsaved, rolled back), memory agrees with the log."""
    with Database.memory() as db:
        bank = cached_bank(db, maxsize=maxsize, every=every)
        for account_id in ("a1", "a2", "a3"):
            bank.open_account(account_id)
        for account_id, command, amount in script:
            account = bank.accounts.load(account_id)
            try:
                if command == "rename":
                    account.rename(f"owner {amount}")
                elif command == "close":
                    account.close()
                elif command in ("deposit", "withdraw"):
                    getattr(account, command)(amount)
                elif command == "unsaved":
                    account.deposit(amount)
                    continue
                else:
                    with db.transaction():
                        account.deposit(amount)
                        bank.accounts.save(account)
                        raise RuntimeError("roll back")
            except (AccountError, RuntimeError):
                continue
            bank.accounts.save(account)
            loaded = bank.accounts.load(account_id)
            assert loaded.state() == from_the_log(db, bank, account_id).state()
            assert loaded.version == account.version
        for account_id in ("a1", "a2", "a3"):
            loaded = bank.accounts.load(account_id)
            replayed = from_the_log(db, bank, account_id)
            assert (loaded.state(), loaded.version) == (replayed.state(), replayed.version)


def test_a_memento_restores_only_a_new_aggregate_of_the_same_id(db):
    bank = Bank(db)
    account = bank.open_account("a1")
    memento = account.memento()
    with pytest.raises(ValueError, match="loaded already"):
        bank.accounts.load("a1").restore(memento)
    with pytest.raises(ValueError, match="cannot restore"):
        bank.accounts.new("a2").restore(memento)
    restored = Account("a1", clock=SteppingClock())
    restored.restore(memento)
    assert (restored.state(), restored.version) == (account.state(), 1)


def test_an_aggregate_whose_state_cannot_be_copied_stores_nothing(db):
    bank = cached_bank(db)
    bank.open_account("a1")
    account = bank.accounts.load("a1")
    account.deposit(Decimal("1"))
    account.owner_lock = threading.Lock()  # state a deep copy cannot take
    with pytest.raises(TypeError):
        bank.accounts.save(account)
    assert stream_versions(db, "a1") == [1]
    assert bank.accounts.load("a1").balance == 0
