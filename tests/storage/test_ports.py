"""Each backend satisfies the storage port (``mallbots.es.ports``) the core is written to."""

from __future__ import annotations

from mallbots.es.ports import (
    Archiving,
    EventRecorder,
    EventStorePort,
    LogReader,
    SnapshotStorage,
    StreamBatches,
    StreamReader,
    Transactions,
)
from mallbots.es.snapshots import SnapshotMiddleware
from tests.es_support import bank_registry
from tests.test_event_store import account_with_events


def test_every_backend_satisfies_the_port(backend):
    registry = bank_registry()
    store = backend.event_store(registry)
    snapshots = backend.snapshots(registry)(store)
    assert isinstance(backend.database, Transactions)
    for port in (EventRecorder, StreamReader, LogReader, EventStorePort, StreamBatches, Archiving):
        assert isinstance(store, port), port.__name__
    assert isinstance(snapshots, SnapshotStorage)
    assert isinstance(snapshots, SnapshotMiddleware)


def test_the_neutral_snapshot_logic_runs_on_every_backend(backend):
    """A snapshot written through the port reads back the same on each backend."""
    registry = bank_registry()
    store = backend.event_store(registry)
    snapshots = backend.snapshots(registry)(store)
    account = account_with_events("a1", 3)
    snapshots.save(account)  # 4 events: crosses 3, so a snapshot is written with them
    version, name, _ = snapshots.read("bank.Account", "a1")
    assert (version, name) == (4, "bank.AccountV1")
    assert snapshots.read_for_load("bank.Account", "a1") == snapshots.read("bank.Account", "a1")
    assert snapshots.read("bank.Account", "nobody") is None
    where, mend = snapshots.where()
    assert where and mend


def test_recreating_the_snapshot_table_empties_it_on_every_backend(backend):
    registry = bank_registry()
    snapshots = backend.snapshots(registry)(backend.event_store(registry))
    snapshots.save(account_with_events("a1", 3))
    snapshots.recreate_table()
    assert snapshots.read("bank.Account", "a1") is None
    snapshots.save(account_with_events("a2", 3))  # the table is there again
    assert snapshots.read("bank.Account", "a2")[0] == 4
