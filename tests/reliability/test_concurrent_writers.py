"""Eight threads saving to the same few aggregates through one Database file, while two
readers poll the whole log.

Every save either lands whole or raises ConcurrencyError (or, for the few saves that
carry a payload no store can hold, PayloadError: writing nothing). Afterwards every
stream has versions 1..n, the global positions are 1..N in the order the saves
committed, every landed save's events are in the log exactly once, and no reader ever
saw a position appear behind one it had already passed.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import pytest

from mallbots.es import (
    AggregateRepository,
    ConcurrencyError,
    Database,
    EventLog,
    EventStore,
    EveryNEvents,
    PayloadError,
    snapshots,
    with_middleware,
)
from tests.es_support import Account, bank_registry
from tests.reliability.figures import count

SECONDS = 8.0
WRITERS = 8
READERS = 2
ACCOUNTS = ["a1", "a2", "a3"]
POISON = 0.02  # the share of saves that carry a lone surrogate: refused, write nothing


class CommitRecorder:
    """Middleware: notes each landed save's positions at the moment it commits.

    It holds the database's write lock (reentrant) across the inner save, and the
    note is taken by an after-commit hook, so no other save can commit in between:
    the list is in true commit order.
    """

    def __init__(self, inner, database: Database, committed: list) -> None:
        self.inner = inner
        self.database = database
        self.committed = committed

    def load(self, aggregate) -> None:
        self.inner.load(aggregate)

    def save(self, aggregate):
        with self.database.writing():
            events = self.inner.save(aggregate)
            positions = [event.position for event in events]
            self.database.after_commit(lambda: self.committed.append(positions))
        return events


@dataclass
class Tally:
    attempted: int = 0
    conflicts: int = 0
    refused: int = 0
    landed: dict = field(default_factory=dict)  # marker prefix -> (account, positions, k)
    unexpected: list = field(default_factory=list)


def writer(number: int, repository: AggregateRepository, stop: threading.Event, tally: Tally):
    rng = random.Random(number)
    save = 0
    while not stop.is_set():
        save += 1
        prefix = f"w{number}-s{save}"
        account_id = rng.choice(ACCOUNTS)
        k = rng.randint(1, 3)
        poisoned = rng.random() < POISON
        tally.attempted += 1
        try:
            account = repository.load(account_id)
            for part in range(1, k + 1):
                account.rename(f"{prefix}-p{part}/{k}")
            if poisoned:
                account.rename("not text: \ud800")
            stored = repository.save(account)
        except ConcurrencyError:
            tally.conflicts += 1
        except PayloadError:
            if not poisoned:
                raise
            tally.refused += 1
        except BaseException as error:  # anything else is a failure of the store
            tally.unexpected.append(error)
            raise
        else:
            assert not poisoned, "a payload that cannot be stored was stored"
            tally.landed[prefix] = (account_id, [e.position for e in stored], k)


def reader(log: EventLog, writers_done: threading.Event, seen: list, polls: Counter):
    last = 0
    while True:
        finished = writers_done.is_set()  # read before the poll: the last poll sees all
        for batch in log.batches(after_position=last, batch_size=500):
            for event in batch:
                seen.append(event.position)
                last = max(last, event.position)
        polls["polls"] += 1
        if finished:
            return
        time.sleep(0.001)


@pytest.mark.slow
@pytest.mark.parametrize("every", [None, 2], ids=["no-snapshots", "snapshots-every-2"])
def test_concurrent_writers_and_readers_lose_nothing(tmp_path, every):
    database = Database.open(tmp_path / "concurrent.duckdb")
    registry = bank_registry()
    events = EventStore(database, registry, "bank.events")
    committed: list[list[int]] = []
    middleware = [lambda inner: CommitRecorder(inner, database, committed)]
    if every:
        middleware.append(snapshots(database, registry, "bank.snapshots", EveryNEvents(every)))
    repository = AggregateRepository(Account, with_middleware(events, *middleware))
    for account_id in ACCOUNTS:
        account = repository.new(account_id)
        account.open("Ada")
        repository.save(account)

    stop, writers_done = threading.Event(), threading.Event()
    tallies = [Tally() for _ in range(WRITERS)]
    seen: list[list[int]] = [[] for _ in range(READERS)]
    polls: list[Counter] = [Counter() for _ in range(READERS)]
    writers = [
        threading.Thread(target=writer, args=(n, repository, stop, tallies[n]))
        for n in range(WRITERS)
    ]
    readers = [
        threading.Thread(
            target=reader, args=(EventLog(database, registry), writers_done, seen[r], polls[r])
        )
        for r in range(READERS)
    ]
    for thread in writers + readers:
        thread.start()
    time.sleep(SECONDS)
    stop.set()
    for thread in writers:
        thread.join()
    writers_done.set()
    for thread in readers:
        thread.join()

    # --- every save landed whole or was refused; nothing else happened -------------------
    assert [error for t in tallies for error in t.unexpected] == []
    attempted = sum(t.attempted for t in tallies)
    conflicts = sum(t.conflicts for t in tallies)
    refused = sum(t.refused for t in tallies)
    landed = {prefix: saved for t in tallies for prefix, saved in t.landed.items()}
    assert len(landed) + conflicts + refused == attempted
    assert conflicts > 0 and len(landed) > 50  # the race was real

    # --- the log: positions 1..N, in commit order ----------------------------------------
    log = list(EventLog(database, registry).events())
    positions = [event.position for event in log]
    assert positions == list(range(1, len(log) + 1))
    assert [p for save in committed for p in save] == positions

    # --- every landed save's events are there exactly once, in order, and nothing else ---
    by_position = {event.position: event for event in log}
    markers = Counter(event.payload.owner for event in log if event.name == "bank.AccountRenamed")
    lost = 0
    for prefix, (account_id, saved_positions, k) in landed.items():
        expected = [f"{prefix}-p{part}/{k}" for part in range(1, k + 1)]
        found = [by_position.get(p) for p in saved_positions]
        if (
            any(e is None for e in found)
            or [e.payload.owner for e in found] != expected
            or {e.aggregate_id for e in found} != {account_id}
            or any(markers[m] != 1 for m in expected)
        ):
            lost += 1
    written = sum(k for _, _, k in landed.values())
    assert lost == 0
    assert sum(markers.values()) == written  # no event from a save that did not land

    # --- every stream: versions 1..n; loads agree with and without snapshots ------------
    for account_id in ACCOUNTS:
        stream = events.load_stream("bank.Account", account_id)
        assert [e.aggregate_version for e in stream] == list(range(1, len(stream) + 1))
        replayed = AggregateRepository(Account, events).load(account_id)
        assert repository.load(account_id).state() == replayed.state()
        assert replayed.version == len(stream)
    if every:
        (ahead,) = database.execute(
            "SELECT count(*) FROM bank.snapshots s WHERE stream_version > "
            "(SELECT max(stream_version) FROM bank.events e "
            " WHERE e.stream_id = s.stream_id AND e.stream_name = s.stream_name)"
        ).fetchone()
        assert ahead == 0

    # --- readers never saw a position behind one they had passed -------------------------
    out_of_order = skipped = 0
    for positions_seen in seen:
        steps = list(itertools.pairwise(positions_seen))
        out_of_order += sum(1 for a, b in steps if b <= a)  # a late, lower position
        skipped += sum(1 for a, b in steps if b > a + 1)  # a hole it would fill later
        assert positions_seen == positions
    assert out_of_order == skipped == 0

    count("saves attempted", attempted)
    count("saves landed", len(landed))
    count("conflicts raised", conflicts)
    count("saves refused (payload no store can hold)", refused)
    count("events written", written)
    count("events lost", lost)
    count("reader polls", sum(p["polls"] for p in polls))
    count("events seen by readers", sum(len(s) for s in seen))
    count("positions seen out of order", out_of_order)
    database.close()
