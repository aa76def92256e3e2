"""The aggregate repository: load an aggregate by id, save what it recorded.

The application layer talks only to repositories. A repository builds an empty
aggregate with the repository's clock and id factory (so a seeded run is reproducible),
asks its store to load it, and after a save moves the aggregate's version forward.
:meth:`AggregateRepository.update` runs a whole command (load, change, save), which
lets a cache on a shared server skip its check before the save checks the copy anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from mallbots.es.aggregate import Aggregate
from mallbots.es.aggregate_store import AggregateStore
from mallbots.es.cache import UncheckedHits
from mallbots.es.clock import Clock
from mallbots.es.dispatcher import HandlerError
from mallbots.es.errors import AggregateNotFoundError, ConcurrencyError
from mallbots.es.events import AggregateEvent
from mallbots.es.ids import IdFactory

A = TypeVar("A", bound=Aggregate)


class AggregateRepository(Generic[A]):
    """Loads and saves aggregates of one type through an aggregate store."""

    def __init__(
        self,
        aggregate_type: type[A],
        store: AggregateStore,
        *,
        clock: Clock | None = None,
        ids: IdFactory | None = None,
    ) -> None:
        self.aggregate_type = aggregate_type
        self.store = store
        self.clock = clock
        self.ids = ids

    @property
    def aggregate_name(self) -> str:
        return self.aggregate_type.NAME

    def new(self, aggregate_id: str) -> A:
        """An empty aggregate (version 0) that records with this repository's clock and ids."""
        return self.aggregate_type(aggregate_id, clock=self.clock, ids=self.ids)

    def load(self, aggregate_id: str) -> A:
        """The aggregate with its stored history applied.

        An id with no events raises :class:`AggregateNotFoundError`.
        """
        aggregate = self.load_or_new(aggregate_id)
        if aggregate.version == 0:
            raise AggregateNotFoundError(self.aggregate_name, aggregate_id)
        return aggregate

    def load_or_new(self, aggregate_id: str) -> A:
        """The aggregate with its stored history applied, or a new, empty one if the id
        has no events (to run a creating command on, which refuses an existing one)."""
        aggregate = self.new(aggregate_id)
        self.store.load(aggregate)
        return aggregate

    def save(self, aggregate: A) -> list[AggregateEvent]:
        """Store the aggregate's pending events; returns them as stored."""
        if not aggregate.events:
            return []
        try:
            events = self.store.save(aggregate)
        except HandlerError:
            aggregate.commit_events()  # stored: only a reaction to them failed
            raise
        aggregate.commit_events()
        return events

    def update(self, aggregate_id: str, change: Callable[[A], object]) -> A:
        """Load the aggregate, ``change`` it, save it: one command. Returns it as saved.

        The same as :meth:`load`, ``change`` and :meth:`save`, one round trip shorter
        where an aggregate cache checks its copies against a shared server: a copy is
        used unchecked, since the save checks it anyway (it expects the stream at the
        copy's version). If that copy was overtaken, if ``change`` refuses it, or if
        ``change`` records nothing, ``change`` runs again on the stored state, and
        that run's outcome is the command's. So ``change`` must act on the aggregate
        alone: it may run twice. A conflict with a save made while the command ran is a
        :class:`ConcurrencyError`, as ever.
        """
        for unchecked_allowed in (True, False):
            with UncheckedHits(unchecked_allowed) as unchecked:
                aggregate = self.load(aggregate_id)
            try:
                change(aggregate)
            except Exception:
                if unchecked:
                    continue  # perhaps refused for a stale copy: ask the stored state
                raise
            if unchecked and not aggregate.events:
                continue  # nothing to save, so nothing checked the copy
            try:
                self.save(aggregate)
            except ConcurrencyError:
                if unchecked:
                    continue  # the copy was overtaken (and is out of the cache)
                raise
            return aggregate
        raise AssertionError("unreachable: the second run is checked")

    def __repr__(self) -> str:
        return f"AggregateRepository({self.aggregate_name})"
