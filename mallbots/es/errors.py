"""The errors of the event-sourcing core.

Every error names what went wrong in words a reader can act on: which stream, which
version, which event name. They share one base class so callers can catch them all.
"""

from __future__ import annotations


class EventSourcingError(Exception):
    """Base class of every error raised by :mod:`mallbots.es`."""


class ConcurrencyError(EventSourcingError):
    """A save expected a stream at one version but found it at another.

    Nothing of the save was written: reload the aggregate and try the command again.
    """

    def __init__(self, stream_name: str, stream_id: str, expected: int, actual: int) -> None:
        self.stream_name = stream_name
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"concurrency conflict on stream {stream_name} {stream_id!r}: "
            f"expected version {expected}, but the stream is at version {actual}; "
            "nothing was written (reload the aggregate and retry)"
        )


class DuplicateEventError(EventSourcingError):
    """An event id that is already in the store was appended again."""

    def __init__(self, event_ids: list[str]) -> None:
        self.event_ids = event_ids
        shown = ", ".join(event_ids[:3]) + (" ..." if len(event_ids) > 3 else "")
        super().__init__(f"event id already stored: {shown}; nothing was written")


class AggregateNotFoundError(EventSourcingError):
    """An aggregate was loaded by an id that has no events."""

    def __init__(self, aggregate_name: str, aggregate_id: str) -> None:
        self.aggregate_name = aggregate_name
        self.aggregate_id = aggregate_id
        super().__init__(f"{aggregate_name} {aggregate_id!r} not found: its stream has no events")


class RegistryError(EventSourcingError):
    """Base class of the registry's errors: a name or payload that does not fit."""


class UnknownNameError(RegistryError, KeyError):
    """A name (event or snapshot) that was never registered."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(name)

    def __str__(self) -> str:
        return f"unknown event or snapshot name {self.name!r}: it was never registered"


class PayloadError(RegistryError, ValueError):
    """A payload that does not fit the type registered for its name."""

    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        self.problem = problem
        super().__init__(f"payload of {name!r} does not fit its type: {problem}")


class NewerSchemaVersionError(PayloadError):
    """A payload stored at a schema version newer than this release's registration.

    A later release wrote it; this one cannot know its shape, so it refuses to guess.
    """

    def __init__(self, name: str, stored: int, known: int) -> None:
        self.stored = stored
        self.known = known
        super().__init__(
            name,
            f"it was stored at schema version {stored}, newer than this release "
            f"understands (it reads up to version {known}); open it with a newer release",
        )


class CorruptEventError(EventSourcingError):
    """A stored event could not be read back into its type."""

    def __init__(self, stream_name: str, stream_id: str, version: int, problem: str) -> None:
        self.stream_name = stream_name
        self.stream_id = stream_id
        self.version = version
        self.problem = problem
        super().__init__(
            f"cannot read event {version} of stream {stream_name} {stream_id!r}: {problem}"
        )


class DatabaseLockedError(EventSourcingError):
    """The database file is held read-write by another process."""


class NotADatabaseFileError(EventSourcingError):
    """The path names something that is not a database file (a directory, a FIFO...)."""


class ForeignDatabaseError(EventSourcingError):
    """A database file holds another application's data: the shop adds nothing to it."""


class DatabaseInvalidatedError(EventSourcingError):
    """A write to the file failed (a full disk...): DuckDB refuses it until it is reopened."""
