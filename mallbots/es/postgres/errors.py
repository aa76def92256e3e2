"""The errors a shared PostgreSQL event store adds to those of the core.

Each says which server, what happened and what to do; none shows SQL.
"""

from __future__ import annotations

from mallbots.es.errors import EventSourcingError


class ServerUnavailableError(EventSourcingError):
    """The PostgreSQL server could not be reached, or refused the connection."""


class ServerBusyError(EventSourcingError):
    """A write waited longer than the lock timeout for another session's transaction."""


class SessionEndedError(EventSourcingError):
    """The server ended this session (a transaction left idle too long, or a restart)."""


class TransactionAbortedError(EventSourcingError):
    """A statement failed inside a transaction, so PostgreSQL refuses to commit any of it."""


class RowTakenError(EventSourcingError):
    """A plain table's key was taken by another session between a command's check and
    its insert: nothing of the command was written."""
