"""The aggregate store chain, assembled in one place for every backend and caller.

As in the book, the first middleware is the outermost. From the outside in:

1. the aggregate cache (if any), which serves loads from memory (checked against the
   event store's stream heads first, where other processes write the same streams);
2. the publisher (if any), which hands saved events to the dispatcher once they are
   committed with their snapshot;
3. the continuations (if any), which follow an aggregate whose books were closed;
4. the snapshot store (if any), which writes a snapshot in the events' transaction;
5. the event store.

The stores are given, built for their backend (DuckDB or PostgreSQL): this only wraps
them, so it is the same for both.
"""

from __future__ import annotations

from mallbots.es.aggregate_store import AggregateStore, Middleware, with_middleware
from mallbots.es.cache import AggregateCache, cached
from mallbots.es.dispatcher import EventDispatcher
from mallbots.es.ports import StreamReader, Transactions
from mallbots.es.publisher import publisher


def store_chain(
    events: AggregateStore,
    snapshots: AggregateStore | None = None,
    *,
    dispatcher: EventDispatcher | None = None,
    continuations: Middleware | None = None,
    cache: AggregateCache | None = None,
    transactions: Transactions | None = None,
    shared: bool = False,
) -> AggregateStore:
    """The aggregate store around ``events`` (and ``snapshots``, which must wrap it).

    ``cache`` needs the ``transactions`` its entries are kept on the commit of; if the
    streams are ``shared`` with other processes, each hit is checked against ``events``.
    """
    if snapshots is not None and getattr(snapshots, "inner", None) is not events:
        raise ValueError("the snapshot store must wrap the event store it is given with")
    middleware: list[Middleware] = []
    if cache is not None:
        if transactions is None:
            raise ValueError("an aggregate cache needs the transactions it keeps entries on")
        heads: StreamReader | None = events if shared else None  # type: ignore[assignment]
        middleware.append(cached(cache, transactions, heads))
    if dispatcher is not None:
        middleware.append(publisher(dispatcher))
    if continuations is not None:
        middleware.append(continuations)
    return with_middleware(snapshots if snapshots is not None else events, *middleware)
