"""The publisher middleware: saved events go to a dispatcher's handlers."""

from __future__ import annotations

from mallbots.es.aggregate import Aggregate
from mallbots.es.aggregate_store import AggregateStore, Middleware
from mallbots.es.dispatcher import EventDispatcher
from mallbots.es.events import AggregateEvent


class EventPublisher:
    """Saves through the wrapped store, then publishes what was stored."""

    def __init__(self, inner: AggregateStore, dispatcher: EventDispatcher) -> None:
        self.inner = inner
        self.dispatcher = dispatcher

    def load(self, aggregate: Aggregate) -> None:
        self.inner.load(aggregate)

    def save(self, aggregate: Aggregate) -> list[AggregateEvent]:
        events = self.inner.save(aggregate)
        self.dispatcher.publish(*events)
        return events


def publisher(dispatcher: EventDispatcher) -> Middleware:
    """Middleware that publishes saved events to ``dispatcher`` (outermost in the book)."""
    return lambda inner: EventPublisher(inner, dispatcher)
