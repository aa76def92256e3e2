"""Measuring loads and rebuilds: how many events each replays, and how long it takes.

Timings depend on the machine and on what else it is doing, so a notebook should draw
them (nbval does not compare images) and print only what is exact: the number of
events each load or rebuild replays. :func:`snapshot_load_times` gives both for
streams of several lengths loaded with and without a snapshot, :func:`rebuild_times`
for read models rebuilt event by event and in one SQL pass, and :func:`load_replays`
counts what one aggregate's load replays (following closed books).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import pandas as pd

from mallbots.es import (
    Aggregate,
    AggregateNotFoundError,
    AggregateRepository,
    AggregateStore,
    Database,
    EventStore,
    EveryNEvents,
    Registry,
    SeededIds,
    SnapshotStore,
    SteppingClock,
)
from mallbots.es.books import ContinuationStore
from mallbots.es.chain import store_chain
from mallbots.stores.module import registrations
from mallbots.stores.product import Product


def count_replayed(store: AggregateStore, aggregate: Aggregate) -> int:
    """Load ``aggregate`` through ``store``; returns how many events it replayed.

    A snapshot restores state without replaying, so the count is what a snapshot saves.
    """
    replayed = 0
    load_event = aggregate.load_event

    def counting(event):
        nonlocal replayed
        replayed += 1
        load_event(event)

    aggregate.load_event = counting  # type: ignore[method-assign]
    try:
        store.load(aggregate)
    finally:
        del aggregate.load_event
    return replayed


def best_ms(action: Callable[[], Any], repeats: int = 5) -> float:
    """The shortest wall time of ``action`` in milliseconds, over ``repeats`` runs.

    The shortest, not the mean: on a shared machine, other work only ever adds time, so
    the best run is the closest to what the code itself costs (``timeit`` does the same).
    """
    if repeats < 1:
        raise ValueError("repeat at least once")
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return min(times)


class ProductStreams:
    """Products with long histories, in a database of their own.

    Each product is added, then its price goes up a cent at a time. Events are saved in
    chunks of ``chunk`` (as a busy product would be, a few changes per command), through
    a snapshot middleware that snapshots every ``snapshot_every`` events.
    """

    def __init__(self, snapshot_every: int = 100, chunk: int = 25, seed: int = 5) -> None:
        self.database = Database.memory()
        self.registry: Registry = registrations(Registry())
        self.events = EventStore(self.database, self.registry, "stores.events")
        self.strategy = EveryNEvents(snapshot_every)
        self.with_snapshots = store_chain(
            self.events,
            SnapshotStore(
                self.events, self.database, self.registry, "stores.snapshots", self.strategy
            ),
        )
        self.snapshot_table = "stores.snapshots"
        self.chunk = chunk
        self.products = AggregateRepository(
            Product, self.with_snapshots, clock=SteppingClock(), ids=SeededIds(seed)
        )

    def grow(self, product_id: str, length: int) -> None:
        """Write a product stream of exactly ``length`` events."""
        if length < 1:
            raise ValueError("a product stream has at least its ProductAdded event")
        product = self.products.new(product_id)
        product.add("store-1", f"Product {product_id}", "", "", "1.00")
        price = Decimal("1.00")
        while product.pending_version < length:
            price += Decimal("0.01")
            product.increase_price(price)
            if len(product.events) == self.chunk:
                self.products.save(product)
        self.products.save(product)

    def snapshot_version(self, product_id: str) -> int:
        """The version of the product's stored snapshot (0 if it has none)."""
        row = self.database.execute(
            f"SELECT stream_version FROM {self.snapshot_table} WHERE stream_id = $1",
            [product_id],
        ).fetchone()
        return 0 if row is None else row[0]

    def load(self, product_id: str, *, use_snapshot: bool) -> tuple[Product, int]:
        """The product and how many events its load replayed."""
        product = Product(product_id)
        store = self.with_snapshots if use_snapshot else self.events
        return product, count_replayed(store, product)

    def close(self) -> None:
        self.database.close()


def snapshot_load_times(
    lengths: Iterable[int] = (10, 100, 500, 1000, 2500, 5000),
    snapshot_every: int = 100,
    repeats: int = 5,
    chunk: int = 25,
) -> pd.DataFrame:
    """Load time against stream length, from the events alone and from a snapshot.

    One row per (length, mode): ``length``, ``mode`` (``"events only"`` or
    ``"snapshot + newer events"``), ``snapshot_version``, ``replayed`` (exact) and ``ms``
    (the best of ``repeats`` loads: it varies from run to run).
    """
    streams = ProductStreams(snapshot_every=snapshot_every, chunk=chunk)
    rows = []
    try:
        for length in lengths:
            product_id = f"product-{length}"
            streams.grow(product_id, length)
            snapshot_version = streams.snapshot_version(product_id)
            for mode, use_snapshot in (("events only", False), ("snapshot + newer events", True)):
                product, replayed = streams.load(product_id, use_snapshot=use_snapshot)
                if product.version != length:
                    raise AssertionError(f"{product_id} loaded at {product.version}")
                ms = best_ms(
                    lambda p=product_id, u=use_snapshot: streams.load(p, use_snapshot=u), repeats
                )
                rows.append(
                    {
                        "length": length,
                        "mode": mode,
                        "snapshot_version": snapshot_version if use_snapshot else 0,
                        "replayed": replayed,
                        "ms": ms,
                    }
                )
    finally:
        streams.close()
    return pd.DataFrame(rows)


# --- rebuilding read models ---------------------------------------------------------------------

REBUILD_MODES = (("per event", False), ("set-based", True))


def rebuild_times(
    projector: Any, names: Iterable[str] | None = None, repeats: int = 3
) -> pd.DataFrame:
    """How long each projection takes to rebuild, event by event and in one SQL pass.

    One row per (projection, mode): ``projection``, ``mode`` (``"per event"`` or
    ``"set-based"``), ``events`` (how many events the rebuild took into account: exact,
    and the same both ways) and ``ms`` (the best of ``repeats`` rebuilds: it varies).
    Every rebuild leaves the read model as the handlers would, so the projector ends
    where it started.
    """
    selected = [p.name for p in projector] if names is None else list(names)
    rows = []
    for name in selected:
        for mode, set_based in REBUILD_MODES:
            events = projector.rebuild([name], set_based=set_based)
            ms = best_ms(lambda n=name, s=set_based: projector.rebuild([n], set_based=s), repeats)
            rows.append({"projection": name, "mode": mode, "events": events, "ms": ms})
    return pd.DataFrame(rows, columns=["projection", "mode", "events", "ms"])


# --- how much a load replays --------------------------------------------------------------------


def load_replays(shop: Any, stream_name: str, aggregate_id: str) -> dict[str, Any]:
    """Where a shop loads an aggregate from, and how many events that load replays.

    ``stream``: the stream the aggregate lives in now (its id, or a continuation once its
    books were closed); ``version``: its version there; ``events only``: the events a
    load replays without snapshots; ``snapshot + newer events``: those it replays through
    the shop's own chain, which starts from the latest snapshot.
    """
    repository = shop.repository(stream_name)
    module = shop.modules[stream_name.partition(".")[0]]
    events_only: AggregateStore = module.events
    continuations = getattr(module, "continuations", None)
    if continuations is not None:  # follow closed books, as the shop's chain does
        events_only = ContinuationStore(events_only, continuations)
    bare = repository.aggregate_type(aggregate_id)
    replayed = count_replayed(events_only, bare)
    if not bare.version:
        raise AggregateNotFoundError(stream_name, aggregate_id)
    cached = repository.aggregate_type(aggregate_id)
    from_snapshot = count_replayed(repository.store, cached)
    if (cached.version, cached.state()) != (bare.version, bare.state()):
        raise AssertionError(f"{stream_name} {aggregate_id!r} loads differently from a snapshot")
    return {
        "stream": bare.stream_id,
        "version": bare.version,
        "events only": replayed,
        "snapshot + newer events": from_snapshot,
    }
