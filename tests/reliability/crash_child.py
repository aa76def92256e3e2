"""A process that saves in a loop until it is killed (by test_crash.py, with SIGKILL).

    python -m tests.reliability.crash_child DATABASE JOURNAL CHILD_NUMBER

Two threads save to a few accounts: one through the event store with snapshots every
3 events (written in one transaction with the events) and an inline projection with a
checkpoint, one through the bare event store (one autocommitted insert per save). Each
save renames the account k times (k = 1..4), each event's owner a marker
"c<child>-s<n>-p<part>/<k>", so a save that landed only in part would show. Before a
save the thread writes its intention to the journal; after it, what happened. The
journal is written with os.write on an O_APPEND file, one line per call, so a kill
leaves every line whole.
"""

from __future__ import annotations

import os
import random
import sys
import threading

ACCOUNTS = ["acct-1", "acct-2", "acct-3"]
THREADS = 2


def main(database_path: str, journal_path: str, child: int) -> None:
    journal = os.open(journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def note(line: str) -> None:
        os.write(journal, (line + "\n").encode())

    from mallbots.es import (
        AggregateRepository,
        ConcurrencyError,
        Database,
        EventDispatcher,
        EventLog,
        EventStore,
        EveryNEvents,
        Projector,
        publisher,
        snapshots,
        with_middleware,
    )
    from tests.es_support import Account, Balances, bank_registry

    print("opening", flush=True)
    database = Database.open(database_path)
    # Checkpoint often, so that kills also land in the middle of checkpoints.
    database.execute("SET checkpoint_threshold = '64KB'")
    registry = bank_registry()
    events = EventStore(database, registry, "bank.events")
    # An inline projection with a checkpoint: thread 0's saves reach it as they commit;
    # thread 1's do not, so it also meets gaps and catches up from the log.
    projector = Projector(database, EventLog(database, registry), batch_size=50)
    projector.add(Balances("bank"), inline=True)
    dispatcher = EventDispatcher()
    dispatcher.subscribe(projector.handle)
    with_snapshots = with_middleware(
        events,
        publisher(dispatcher),
        snapshots(database, registry, "bank.snapshots", EveryNEvents(3)),
    )
    print("ready", flush=True)

    def loop(thread: int) -> None:
        # Thread 0 saves with snapshots (a transaction when one is due), thread 1 without
        # (one autocommitted insert): both ways a save must land whole.
        accounts = AggregateRepository(Account, with_snapshots if thread == 0 else events)
        rng = random.Random(child * 100 + thread)
        save = 0
        while True:
            save += 1
            marker = f"c{child}-t{thread}-s{save}"
            account_id = rng.choice(ACCOUNTS)
            k = rng.randint(1, 4)
            try:
                account = accounts.load_or_new(account_id)
                if account.version == 0:
                    k = 1
                    account.open(f"{marker}-p1/1")
                else:
                    for part in range(1, k + 1):
                        account.rename(f"{marker}-p{part}/{k}")
                note(f"intend {marker} {account_id} {k} {account.version}")
                stored = accounts.save(account)
            except ConcurrencyError:
                note(f"conflict {marker}")
                continue
            except BaseException as error:  # the parent fails the test on this line
                note(f"error {marker} {error!r}".replace("\n", " "))
                os._exit(3)
            note(f"done {marker} {stored[0].position} {stored[-1].position}")

    threads = [threading.Thread(target=loop, args=(n,), daemon=True) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
