"""The event dispatcher: handlers subscribe to event names; published events reach them.

Handlers run synchronously, right after the events they receive were saved (the book's
in-process ``ddd.EventDispatcher``): those subscribed ``first`` before the others; within
each group, those subscribed to the event's name before those subscribed to every
event, each in the order they subscribed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from mallbots.es.events import AggregateEvent

Handler = Callable[[AggregateEvent], None]
"""An event handler: any callable that takes one event."""


class HandlerError(Exception):
    """A handler failed on an event that was already stored.

    Saved on its own, the event is safe in the log; what failed is a reaction to it (a
    read model, a follow-up command), and a projection with a checkpoint catches up from
    the log later. Saved inside a caller's transaction (a shop command), the event is
    only as safe as that transaction: ``stored=False`` says it was rolled back with it.
    """

    def __init__(
        self, handler: Handler, event: AggregateEvent, cause: BaseException, stored: bool = True
    ) -> None:
        self.handler = handler
        self.event = event
        self.cause = cause
        self.stored = stored
        name = getattr(handler, "__qualname__", None) or type(handler).__name__
        outcome = (
            "the event itself is stored"
            if stored
            else "nothing was stored: the command's transaction was rolled back"
        )
        super().__init__(
            f"handler {name} failed on {event.name} (position {event.position}, "
            f"{event.aggregate_name} {event.aggregate_id!r} v{event.aggregate_version}); "
            f"{outcome}: {type(cause).__name__}: {cause}"
        )


class EventDispatcher:
    """Routes events to the handlers subscribed to their names."""

    def __init__(self) -> None:
        self._groups = (_Group(), _Group())  # those subscribed first, then the others
        self._lock = threading.Lock()
        self._routes: dict[str, tuple[Handler, ...]] = {}  # each name's handlers, as found

    def subscribe(
        self, handler: Handler, names: Iterable[str] | None = None, *, first: bool = False
    ) -> Handler:
        """Call ``handler`` for each published event named in ``names`` (all if None).

        ``first`` runs it before every handler subscribed without it: for inline read
        models, which take an event into account before the reactions to it (a checkout
        creating its order) save more, and so see the log in order.
        """
        with self._lock:
            self._groups[0 if first else 1].add(handler, names)
            self._routes = {}
        return handler

    def unsubscribe(self, handler: Handler) -> None:
        """Stop calling ``handler`` (every subscription of it); unknown handlers are ignored."""
        with self._lock:
            for group in self._groups:
                group.remove(handler)
            self._routes = {}

    def handlers_for(self, name: str) -> list[Handler]:
        """The handlers an event of this name reaches, in the order they run."""
        routes = self._routes
        found = routes.get(name)
        if found is None:
            found = tuple(h for group in self._groups for h in group.handlers_for(name))
            routes[name] = found
        return list(found)

    def publish(self, *events: AggregateEvent) -> None:
        """Hand each event to its handlers; the first failure stops and is raised."""
        for event in events:
            routes = self._routes
            handlers = routes.get(event.name)
            if handlers is None:
                handlers = tuple(self.handlers_for(event.name))
            for handler in handlers:
                try:
                    handler(event)
                except HandlerError:
                    raise
                except Exception as error:
                    raise HandlerError(handler, event, error) from error


class _Group:
    """Handlers by event name, and handlers of every event, each in subscription order."""

    def __init__(self) -> None:
        self.by_name: dict[str, list[Handler]] = {}
        self.for_all: list[Handler] = []

    def add(self, handler: Handler, names: Iterable[str] | None) -> None:
        if names is None:
            self.for_all.append(handler)
        else:
            for name in names:
                self.by_name.setdefault(name, []).append(handler)

    def remove(self, handler: Handler) -> None:
        self.for_all = [h for h in self.for_all if h != handler]
        self.by_name = {
            name: kept
            for name, handlers in self.by_name.items()
            if (kept := [h for h in handlers if h != handler])
        }

    def handlers_for(self, name: str) -> list[Handler]:
        return self.by_name.get(name, []) + self.for_all
