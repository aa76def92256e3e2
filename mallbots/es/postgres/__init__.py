"""The event store on PostgreSQL: one log shared by many processes (``psycopg`` 3).

The same behaviour as the DuckDB store (:mod:`mallbots.es.duckdb.event_store`), for a class
sharing one mall: optimistic concurrency across processes, a global position in commit
order without holes, snapshots in the events' transaction, and timeouts so that one
stuck session cannot stall the rest. ``psycopg`` is imported only in this package.

=========================  ==========================================================
DuckDB (``mallbots.es``)    PostgreSQL (here)
=========================  ==========================================================
:class:`Database`           :class:`PostgresDatabase` (``database``)
:class:`EventStore`         :class:`PostgresEventStore` (``event_store``)
:class:`EventLog`           :class:`PostgresLog` (``log``)
:func:`snapshots`           :func:`postgres_snapshots`, :class:`PostgresSnapshotStore`
=========================  ==========================================================
"""

from mallbots.es.postgres.database import PostgresDatabase
from mallbots.es.postgres.errors import (
    ServerBusyError,
    ServerUnavailableError,
    SessionEndedError,
    TransactionAbortedError,
)
from mallbots.es.postgres.event_store import PostgresEventStore
from mallbots.es.postgres.log import PostgresLog
from mallbots.es.postgres.snapshots import PostgresSnapshotStore, postgres_snapshots

__all__ = [
    "PostgresDatabase",
    "PostgresEventStore",
    "PostgresLog",
    "PostgresSnapshotStore",
    "ServerBusyError",
    "ServerUnavailableError",
    "SessionEndedError",
    "TransactionAbortedError",
    "postgres_snapshots",
]
