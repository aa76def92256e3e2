"""The event dispatcher: handlers subscribe to event names; published events reach them.

Handlers run in the order they subscribed, synchronously, right after the events they
receive were committed (the book's in-process ``ddd.EventDispatcher``).
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
        self._by_name: dict[str, list[Handler]] = {}
        self._for_all: list[Handler] = []
        self._lock = threading.Lock()

    def subscribe(self, handler: Handler, names: Iterable[str] | None = None) -> Handler:
        """Call ``handler`` for each published event named in ``names`` (all if None)."""
        with self._lock:
            if names is None:
                self._for_all.append(handler)
            else:
                for name in names:
                    self._by_name.setdefault(name, []).append(handler)
        return handler

    def handlers_for(self, name: str) -> list[Handler]:
        """The handlers an event of this name reaches, in subscription order."""
        return self._by_name.get(name, []) + self._for_all

    def publish(self, *events: AggregateEvent) -> None:
        """Hand each event to its handlers; the first failure stops and is raised."""
        for event in events:
            for handler in self.handlers_for(event.name):
                try:
                    handler(event)
                except HandlerError:
                    raise
                except Exception as error:
                    raise HandlerError(handler, event, error) from error
