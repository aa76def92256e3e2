"""Projections while eight threads save: the inline one and a catch-up one that runs
alongside both end equal to a rebuild from the log."""

from __future__ import annotations

import random
import threading
import time
from decimal import Decimal

import pytest

from mallbots.es import ConcurrencyError, EventLog, Projector
from mallbots.es.time_travel import read_model_at
from tests.es_support import Balances, Bank
from tests.reliability.figures import count

SECONDS = 4.0
WRITERS = 8


def rows(database, table: str) -> list[tuple]:
    return database.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()


@pytest.mark.slow
def test_inline_and_catch_up_projections_under_concurrent_writers_equal_a_rebuild(db):
    bank = Bank(db, every=3)
    log = EventLog(db, bank.registry)
    inline = Projector(db, log, batch_size=25)
    inline.add(Balances("bank"), inline=True)
    bank.dispatcher.subscribe(inline.handle)
    alongside = Projector(db, log, batch_size=25)
    alongside.add(Balances("alongside"), inline=False)
    for n in range(4):
        bank.open_account(f"a{n}")

    stop = threading.Event()
    saves = {"landed": 0, "conflicts": 0, "catch_ups": 0}
    lock = threading.Lock()

    def writer(number: int) -> None:
        rng = random.Random(number)
        while not stop.is_set():
            account = bank.accounts.load(f"a{rng.randrange(4)}")
            account.deposit(Decimal(rng.randint(1, 9)))
            try:
                bank.accounts.save(account)
                outcome = "landed"
            except ConcurrencyError:
                outcome = "conflicts"
            with lock:
                saves[outcome] += 1

    def catching_up() -> None:
        while not stop.is_set():
            alongside.catch_up()
            saves["catch_ups"] += 1
            time.sleep(0.01)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    threads.append(threading.Thread(target=catching_up))
    for thread in threads:
        thread.start()
    time.sleep(SECONDS)
    stop.set()
    for thread in threads:
        thread.join()

    alongside.catch_up()
    rebuilt = read_model_at(Balances("bank"), log, log.head())["bank.balances"]
    expected = [tuple(row) for row in rebuilt.itertuples(index=False, name=None)]
    assert saves["landed"] > 50 and saves["catch_ups"] > 5
    assert rows(db, "bank.balances") == expected
    assert rows(db, "alongside.balances") == expected
    assert sum(row[4] for row in expected) == log.count()  # every event counted once
    count("saves while projections ran", saves["landed"])
    count("catch-ups run alongside writers", saves["catch_ups"])
