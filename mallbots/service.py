"""Application services: the book's ``application.App`` of each module, in Python.

A module's service has one method per command and per query. Commands and queries are
frozen dataclasses (``CreateStore``, ``GetStore``); a method says which one it takes
with :func:`command` or :func:`query`, and :meth:`ApplicationService.routes` lists them,
so the monolith can route any message to its method (``shop.execute(CreateStore(...))``).

Every command is one unit of work: it and every handler its events reach (read models,
the checkout that creates an order ...) run in one database transaction. If any of them
refuses, the whole command is rolled back and the caller gets that refusal, the
:class:`~mallbots.errors.DomainError` itself rather than the handler error wrapping it.
Nested commands (a handler calling another module) join the outer unit of work.
During a bulk load (:func:`batched`) a command's unit of work is instead one command of
a :class:`~mallbots.es.duckdb.bulk.BulkWriter`, which commits it whole with its batch.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol, TypeVar

from mallbots.errors import DomainError, NotFoundError, require_text
from mallbots.es import (
    Aggregate,
    AggregateNotFoundError,
    AggregateRepository,
    Database,
    HandlerError,
)
from mallbots.es.ids import IdFactory

A = TypeVar("A", bound=Aggregate)
Method = Callable[[Any, Any], Any]


def command(message_type: type) -> Callable[[Method], Method]:
    """Mark a service method as the handler of a command; it runs as one unit of work."""
    return _handler_of(message_type, writes=True)


def query(message_type: type) -> Callable[[Method], Method]:
    """Mark a service method as the handler of a query (reads only, no transaction)."""
    return _handler_of(message_type, writes=False)


def _handler_of(message_type: type, writes: bool) -> Callable[[Method], Method]:
    def mark(method: Method) -> Method:
        @functools.wraps(method)
        def run(self: ApplicationService, message: Any) -> Any:
            _check_message(message, message_type)
            if not writes:
                return method(self, message)
            if _batches:
                batch = _batches.get(self.database)
                if batch is not None:
                    return batch.run(method, self, message)
            with unit_of_work(self.database):
                return method(self, message)

        run.__handles__ = message_type  # type: ignore[attr-defined]
        run.__writes__ = writes  # type: ignore[attr-defined]
        return run

    return mark


def _check_message(message: Any, message_type: type) -> None:
    if not isinstance(message, message_type):
        raise TypeError(f"expected a {message_type.__name__}, got {type(message).__name__}")


class BatchedWork(Protocol):
    """What runs a command's unit of work during a bulk load (a ``BulkWriter``)."""

    def command(self) -> AbstractContextManager[None]: ...


class _Batched:
    """The commands of a bulk load: each outermost one is one command of the work."""

    def __init__(self, work: BatchedWork) -> None:
        self.work = work
        self.running = False

    def run(self, method: Method, service: ApplicationService, message: Any) -> Any:
        if self.running:  # a nested command joins the one running
            return method(service, message)
        self.running = True
        try:
            with self.work.command():
                return method(service, message)
        except HandlerError as error:
            refusal = _refusal_behind(error)
            if refusal is not None:
                raise refusal from None
            raise
        finally:
            self.running = False


_batches: dict[Database, _Batched] = {}
"""The bulk loads running (a plain dict: checked on every command, and emptied by
:func:`batched` as each load ends)."""


@contextmanager
def batched(database: Database, work: BatchedWork) -> Iterator[None]:
    """While open, every command on ``database`` is a unit of ``work``, not a transaction.

    Only for a bulk load that is the database's sole writer: a command refused midway
    leaves what it changed in memory, so the load must then stop and discard its batch.
    """
    if database in _batches:
        raise RuntimeError(f"{database.path} already has a bulk load running")
    _batches[database] = _Batched(work)
    try:
        yield
    finally:
        del _batches[database]


@contextmanager
def unit_of_work(database: Database) -> Iterator[None]:
    """One transaction; a refusal raised inside a handler comes out as itself.

    Any other handler failure rolls the whole command back, its events included, and
    says so (a handler error on its own would report the event as stored).
    """
    batch = _batches.get(database)
    try:
        with database.transaction() if batch is None else batch.work.command():
            yield
    except HandlerError as error:
        refusal = _refusal_behind(error)
        if refusal is not None:
            raise refusal from None
        if not error.stored or database.in_transaction:  # said already, or not ours to say
            raise
        raise HandlerError(error.handler, error.event, error.cause, stored=False) from error.cause


def _refusal_behind(error: BaseException) -> DomainError | None:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, DomainError):
            return cause
        cause = cause.__cause__
    return None


class ApplicationService:
    """Base of a module's application service: routes, ids, and loading by id."""

    def __init__(self, database: Database, ids: IdFactory) -> None:
        self.database = database
        self.ids = ids

    def routes(self) -> dict[type, Callable[[Any], Any]]:
        """Each command and query type this service handles, with its bound method."""
        found = {}
        for name in dir(type(self)):
            handles = getattr(getattr(type(self), name), "__handles__", None)
            if handles is not None:
                found[handles] = getattr(self, name)
        return found

    def command_types(self) -> list[type]:
        """The command types among :meth:`routes` (those that write), by name."""
        return sorted(
            (message for message, method in self.routes().items() if _writes(method)),
            key=lambda message: message.__name__,
        )

    def new_id(self, given: str | None, what: str, blank: type[DomainError]) -> str:
        """The id a creating command asked for, or a fresh one from the id factory."""
        if given is None:
            return self.ids()
        return require_text(given, what, blank)


def load(
    repository: AggregateRepository[A], aggregate_id: Any, not_found: type[NotFoundError]
) -> A:
    """The aggregate with this id, or the module's typed not-found error."""
    if not require_text(aggregate_id, f"{not_found.what} id").strip():
        raise not_found(aggregate_id)
    try:
        return repository.load(aggregate_id)
    except AggregateNotFoundError:
        raise not_found(aggregate_id) from None


def _writes(method: Callable[[Any], Any]) -> bool:
    return getattr(method, "__writes__", False)
