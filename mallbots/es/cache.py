"""The aggregate cache: recently used aggregates kept in memory, so a command skips its load.

Loading an aggregate reads its stream (or its snapshot and what came after) from DuckDB,
a point query of half a millisecond or more: as much as the save that follows it. A
:class:`AggregateCache` keeps a *memento* of each aggregate as this process last loaded
or saved it, and a load hands out a fresh copy of it. Middleware made by :func:`cached`
puts the cache in front of a module's aggregate store (outermost: a hit skips the
publisher, the continuations, the snapshots and the events alike).

It trusts the saves made through it, and these rules keep that trust safe:

- a save through the cache takes the aggregate out at once and puts the new state back
  only when its transaction commits; a rollback puts nothing back;
- a copy that another writer overtook cannot be saved: the event store refuses it
  (``ConcurrencyError``, and its primary key is the last word), and the next load
  reads the table, since the entry left when that save began;
- a load or save that another change to the same entry overtook while it ran does not
  put its state back: every entry remembers when it last changed, and a state is kept
  only if it was read after that, or if it is a later version than the state kept (a
  save that commits after a load, which missed the cache while the save ran, put back
  the version before it).

What it cannot see are events that reach a stream around it: another process, a
:class:`~mallbots.es.duckdb.bulk.BulkWriter`, a store built beside it. A load can return the
state from before them until the stream's next save through the cache is refused.
After writing around it, :meth:`AggregateCache.evict` or :meth:`AggregateCache.clear`.

Where other processes write the same streams (a shop on PostgreSQL), the middleware is
given the event store's stream heads (``checked_against``): each hit is checked first
against the stream's stored version, one small query that decodes nothing. A memento
still at that version is handed out; one that another process overtook is dropped and
the aggregate loads the long way (a closed stream, an archived one, a stream moved on).
A load is then two cheap queries fewer than the snapshot and the events it replaces,
and never older than what is committed.

A command need not even ask: its save checks the copy again, at the moment that
counts (the append expects the stream at the copy's version, and a copy another process
overtook is refused). Inside :class:`UncheckedHits` a hit outside a transaction is
handed out without the question and noted; :meth:`AggregateRepository.update
<mallbots.es.repository.AggregateRepository.update>` runs a command so, and runs it
again on the stored state if its copy was overtaken, or refused it, or changed nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, NamedTuple

from mallbots.es.aggregate import Aggregate
from mallbots.es.aggregate_store import AggregateStore, Middleware
from mallbots.es.events import AggregateEvent
from mallbots.es.ports import StreamReader, Transactions

CacheKey = tuple[str, str]
"""An aggregate in the cache: (aggregate name, aggregate id)."""

Memento = Mapping[str, Any]


_unchecked = threading.local()
"""This thread's list of the keys handed out unchecked, inside :class:`UncheckedHits`."""


class UncheckedHits:
    """Within, a cache whose hits are checked against a shared server hands them out
    unchecked (outside a transaction), and lists their keys in the list it gives.

    Only for a command whose save checks the copy, and which is run again if the copy
    proves stale (:meth:`~mallbots.es.repository.AggregateRepository.update`).
    ``allowed=False``: hits are checked as usual (the list stays empty). A plain
    object, not a generator: it wraps every such command.
    """

    __slots__ = ("_outer", "served")

    def __init__(self, allowed: bool = True) -> None:
        self.served: list[CacheKey] | None = [] if allowed else None

    def __enter__(self) -> list[CacheKey]:
        self._outer = getattr(_unchecked, "served", None)
        _unchecked.served = self.served
        return self.served if self.served is not None else []

    def __exit__(self, *exc: object) -> None:
        _unchecked.served = self._outer


class _Entry(NamedTuple):
    changed: int
    """The tick of this entry's last change."""
    memento: Memento | None
    """None: taken out, and nothing newer known yet."""


class AggregateCache:
    """Mementos of the ``maxsize`` most recently used aggregates; safe across threads.

    ``hits`` and ``misses`` count the lookups, for a look at how well it works;
    ``overtaken`` counts the entries found older than their stream when checked (on a
    server other processes write to), each also counted as a miss.
    """

    def __init__(self, maxsize: int = 10_000) -> None:
        if maxsize < 1:
            raise ValueError("an aggregate cache holds at least one aggregate")
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self.overtaken = 0
        self._entries: OrderedDict[CacheKey, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._ticks = 0
        """Counts the changes; a put carries the tick its state was read at."""
        self._forgotten = 0
        """The newest change among the entries dropped for room (or cleared)."""

    def get(self, key: CacheKey) -> Memento | None:
        """The memento kept for ``key`` (do not change it: copy it), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.memento is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry.memento

    def overtake(self, key: CacheKey) -> None:
        """Take out ``key``, whose entry was just found older than its stream: the lookup
        that found it counts as a miss."""
        with self._lock:
            self.hits -= 1
            self.misses += 1
            self.overtaken += 1
            self._change(key, None)

    def tick(self) -> int:
        """Now, for a :meth:`put` of a state about to be read."""
        with self._lock:
            return self._ticks

    def evict(self, key: CacheKey) -> int:
        """Take ``key`` out, refusing any state of it read before now; returns now."""
        with self._lock:
            return self._change(key, None)

    def put(self, key: CacheKey, memento: Memento, read_at: int) -> bool:
        """Keep ``memento``, read at tick ``read_at``, unless ``key``'s entry changed since
        (and does not hold an older version of it)."""
        with self._lock:
            entry = self._entries.get(key)
            changed = entry.changed if entry is not None else self._forgotten
            if read_at < changed and not (entry is not None and _later(memento, entry.memento)):
                return False
            self._change(key, memento)
            return True

    def clear(self) -> None:
        """Drop everything, and refuse any state read before now."""
        with self._lock:
            self._ticks += 1
            self._forgotten = self._ticks
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return sum(entry.memento is not None for entry in self._entries.values())

    def __contains__(self, key: object) -> bool:
        with self._lock:
            entry = self._entries.get(key) if isinstance(key, tuple) else None
            return entry is not None and entry.memento is not None

    def __repr__(self) -> str:
        return (
            f"AggregateCache({len(self)} of {self.maxsize} aggregates, "
            f"{self.hits} hits, {self.misses} misses"
            + (f", {self.overtaken} overtaken)" if self.overtaken else ")")
        )

    def _change(self, key: CacheKey, memento: Memento | None) -> int:
        self._ticks += 1
        entries = self._entries
        entries[key] = _Entry(self._ticks, memento)
        entries.move_to_end(key)
        while len(entries) > self.maxsize:
            _, dropped = entries.popitem(last=False)
            self._forgotten = max(self._forgotten, dropped.changed)
        return self._ticks


def _later(memento: Memento, kept: Memento | None) -> bool:
    """Whether ``memento`` is a later version of the aggregate than the ``kept`` one."""
    return kept is not None and memento.get("_version", 0) > kept.get("_version", 0)


class CachingStore:
    """Middleware: loads from the cache when it can, and keeps what is loaded and saved."""

    def __init__(
        self,
        inner: AggregateStore,
        cache: AggregateCache,
        database: Transactions,
        checked_against: StreamReader | None = None,
    ) -> None:
        self.inner = inner
        self.cache = cache
        self.database = database
        self.checked_against = checked_against
        """The stream heads each hit is checked against (None: hits are trusted)."""

    def load(self, aggregate: Aggregate) -> None:
        if aggregate.pending_version:  # not a new one: bring it up to date the long way
            self.inner.load(aggregate)
            return
        key = (aggregate.NAME, aggregate.id)
        memento = self.cache.get(key)
        if memento is not None:
            if self._current(key, memento):
                aggregate.restore(memento)
                return
            self.cache.overtake(key)
        read_at = self.cache.tick()
        self.inner.load(aggregate)
        if aggregate.version:  # an aggregate with no events is not kept: it may be created
            self._keep_on_commit(key, aggregate.memento(), read_at)

    def _current(self, key: CacheKey, memento: Memento) -> bool:
        """Whether the memento may be handed out: always if hits are trusted; else if it
        is at its stream's stored version, or (noted as unchecked) if the caller's save
        will check it (see :class:`UncheckedHits`)."""
        heads = self.checked_against
        if heads is None:
            return True
        served = getattr(_unchecked, "served", None)
        if served is not None and not self.database.in_transaction:
            served.append(key)
            return True
        return heads.stream_version(key[0], memento["_stream_id"]) == memento["_version"]

    def save(self, aggregate: Aggregate) -> list[AggregateEvent]:
        key = (aggregate.NAME, aggregate.id)
        memento = aggregate.memento()  # first: a state that cannot be copied stores nothing
        read_at = self.cache.evict(key)
        events = self.inner.save(aggregate)  # a refusal leaves the aggregate out
        self._keep_on_commit(key, memento, read_at)
        return events

    def _keep_on_commit(self, key: CacheKey, memento: Memento, read_at: int) -> None:
        """Keep the state once it is committed (now, outside a transaction)."""
        self.database.after_commit(lambda: self.cache.put(key, memento, read_at))


def cached(
    cache: AggregateCache, database: Transactions, checked_against: StreamReader | None = None
) -> Middleware:
    """Middleware that serves loads from ``cache`` (place it outermost); given the event
    store's ``checked_against``, each hit is first checked to be its stream's head."""
    return lambda inner: CachingStore(inner, cache, database, checked_against)
