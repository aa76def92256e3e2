"""The event-sourced aggregate: state that changes only by recording events.

A command method checks the aggregate's rules, then calls :meth:`Aggregate.record`.
Recording builds an :class:`AggregateEvent` at the next version, applies it to the
state at once, and keeps it pending until the repository saves it. Loading replays
stored events through the same :meth:`Aggregate.apply`, so the state a command sees and
the state a reload sees are built by one piece of code.

Versions follow the book: ``version`` counts the events already stored,
``pending_version`` adds the ones recorded since.

An aggregate's events live in the stream named by its id, unless its books were closed
(:mod:`mallbots.es.books`): it then lives on in a continuation stream, ``stream_id``,
and ``version`` counts the events of that stream.
"""

from __future__ import annotations

import copy
import html
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from mallbots.es import serde
from mallbots.es.clock import Clock, system_clock
from mallbots.es.events import EMPTY_METADATA, AggregateEvent, payload_fields
from mallbots.es.ids import IdFactory, random_ids

_new_event = tuple.__new__
_NOT_IN_MEMENTO = frozenset({"_clock", "_ids", "_pending"})
"""What a memento leaves out: the clock and ids are the repository's, not state."""


_IMMUTABLE = frozenset({str, int, float, bool, type(None), bytes, Decimal, datetime, date, UUID})
"""Types whose values a copy of the state can share (exact types: a subclass may not be)."""


def _deep_copy(state: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of a state's attributes, sharing the immutable values (a copy of an
    aggregate's state took 2.2 us with ``copy.deepcopy`` alone, most of it on those)."""
    memo: dict[int, Any] = {}  # one for all values: two attributes sharing a list still do
    return {
        key: value if type(value) in _IMMUTABLE else copy.deepcopy(value, memo)
        for key, value in state.items()
    }


class Aggregate(ABC):
    """Base class of event-sourced aggregates (``stores.Store``, ``baskets.Basket``...)."""

    NAME: ClassVar[str]
    """The aggregate (stream) name, as in the book: ``stores.Store``."""

    def __init__(self, id: str, *, clock: Clock | None = None, ids: IdFactory | None = None):
        if not isinstance(id, str) or not id:
            raise ValueError(f"{type(self).__name__} needs a non-empty string id, not {id!r}")
        if not id.isascii():
            try:
                serde.check_text(id)
            except serde.FieldError as error:
                raise ValueError(f"{type(self).__name__} id {id!r} {error}") from None
        self.id = id
        self._stream_id = id
        self._version = 0
        self._pending: list[AggregateEvent] = []
        self._clock = clock or system_clock
        self._ids = ids or random_ids

    # --- versions and pending events -------------------------------------------------------

    @property
    def stream_id(self) -> str:
        """The stream its events are stored in: its id, or the stream it continues in."""
        return self._stream_id

    def continue_in(self, stream_id: str) -> None:
        """Live on in another stream (only before anything is loaded or recorded)."""
        if self.pending_version:
            raise ValueError(f"{self.NAME} {self.id!r} already has events in {self._stream_id!r}")
        self._stream_id = stream_id

    @property
    def version(self) -> int:
        """How many of this aggregate's events are stored."""
        return self._version

    @property
    def pending_version(self) -> int:
        """The version the aggregate will have once its pending events are saved."""
        return self._version + len(self._pending)

    @property
    def events(self) -> tuple[AggregateEvent, ...]:
        """The events recorded since the last save, oldest first."""
        return tuple(self._pending)

    def record(
        self, name: str, payload: Any, metadata: Mapping[str, Any] | None = None
    ) -> AggregateEvent:
        """Record an event at the next version and apply it to the state."""
        pending = self._pending
        event = _new_event(  # AggregateEvent(id=..., name=...), without the keyword handling
            AggregateEvent,
            (
                self._ids(),
                name,
                payload,
                self._clock(),
                self.NAME,
                self.id,
                self._version + len(pending) + 1,
                dict(metadata) if metadata else EMPTY_METADATA,
                None,  # position: given when stored
            ),
        )
        self.apply(event)
        pending.append(event)
        return event

    def commit_events(self) -> None:
        """Mark the pending events as stored: the version moves up to the pending version."""
        self._version += len(self._pending)
        self._pending.clear()

    # --- state -----------------------------------------------------------------------------

    @abstractmethod
    def apply(self, event: AggregateEvent) -> None:
        """Change the state by one event. Never check rules here: the event happened."""

    def load_event(self, event: AggregateEvent) -> None:
        """Replay one stored event (the book's ``es.LoadEvent``)."""
        self.apply(event)
        self._version = event.aggregate_version

    def state(self) -> dict[str, Any]:
        """The aggregate's public state as a dict (for tables, displays and comparisons)."""
        return {key: value for key, value in vars(self).items() if not key.startswith("_")}

    # --- mementos (for an aggregate cache) ---------------------------------------------------

    def memento(self) -> dict[str, Any]:
        """A deep copy of the state as it is stored once the pending events are saved.

        Unlike a snapshot it needs nothing of the aggregate type: it is every attribute
        but the clock and id factory, with the version moved past the pending events.
        """
        copied = _deep_copy({k: v for k, v in vars(self).items() if k not in _NOT_IN_MEMENTO})
        copied["_version"] = self.pending_version
        return copied

    def restore(self, memento: Mapping[str, Any]) -> None:
        """Take on the state of a :meth:`memento` (a copy of it: the memento stays intact)."""
        if self.pending_version:
            raise ValueError(f"{self.NAME} {self.id!r} is loaded already; restore a new one")
        if memento.get("id") != self.id:
            raise ValueError(f"a memento of {memento.get('id')!r} cannot restore {self.id!r}")
        vars(self).update(_deep_copy(memento))

    # --- snapshots (override both to make an aggregate snapshottable) -----------------------

    def to_snapshot(self) -> Any:
        """The state as a snapshot payload (a registered dataclass such as ``StoreV1``)."""
        raise TypeError(f"{type(self).__name__} does not take snapshots")

    def apply_snapshot(self, snapshot: Any) -> None:
        """Restore the state from a snapshot payload. Raise ``TypeError`` if it is unknown."""
        raise TypeError(f"{type(self).__name__} does not take snapshots")

    def load_snapshot(self, snapshot: Any, version: int) -> None:
        """Restore from a snapshot taken at ``version`` (the book's ``es.LoadSnapshot``)."""
        self.apply_snapshot(snapshot)
        self._version = version

    # --- closing the books (override both to let an aggregate continue in a new stream) ----

    def close_books(self, continued_in: str) -> None:
        """Record the closing event of this stream, naming the stream it continues in."""
        raise TypeError(f"{type(self).__name__} does not close its books")

    def open_books(self, predecessor: Aggregate) -> None:
        """Record the opening event of a continuation stream, carrying ``predecessor``'s state."""
        raise TypeError(f"{type(self).__name__} does not close its books")

    # --- display ---------------------------------------------------------------------------

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.state().items() if k != "id")
        return f"{type(self).__name__}(id={self.id!r}, version={self.version}, {fields})"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(_show(v))}</td></tr>"
            for k, v in self.state().items()
        )
        pending = f" (+{len(self._pending)} pending)" if self._pending else ""
        return (
            f"<div><b>{html.escape(self.NAME)}</b> "
            f"<span style='color:#666'>version {self.version}{pending}</span>"
            f"<table>{rows}</table></div>"
        )


def _show(value: Any) -> str:
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {_show(v)}" for k, v in value.items()) or "(none)"
    if isinstance(value, (list, tuple)):
        return "; ".join(_show(v) for v in value) or "(none)"
    fields = payload_fields(value) if hasattr(value, "__dataclass_fields__") else None
    if fields:
        return ", ".join(f"{k}={v}" for k, v in fields.items())
    return str(value)
