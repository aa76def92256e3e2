"""The event-sourcing core: the book's ``internal/es``, ``internal/registry`` and
``internal/postgres`` in Python, over DuckDB.

=====================  ==============================================================
book (Go)              here
=====================  ==============================================================
``ddd.Event``          :class:`Event`, :class:`AggregateEvent` (``events``)
``es.Aggregate``       :class:`Aggregate` (``aggregate``)
``registry``           :class:`Registry` (``registry``, ``serde``)
``postgres.EventStore``  :class:`EventStore` (``event_store``), :class:`EventLog` (``log``)
``postgres.SnapshotStore``  :class:`SnapshotStore`, strategies (``snapshots``)
``es.AggregateStore``  :class:`AggregateStore`, :func:`with_middleware` (``aggregate_store``)
``es.EventPublisher``  :class:`EventPublisher`, :func:`publisher` (``publisher``)
``ddd.EventDispatcher``  :class:`EventDispatcher` (``dispatcher``)
``es.AggregateRepository``  :class:`AggregateRepository` (``repository``)
read-model handlers    :class:`Projection`, :class:`RowProjection` (``projection``),
                       :class:`Projector` with checkpoints (``projector``)
(not in the book)      :func:`check_database`: damage in the event tables (``check``)
(not in the book)      :class:`BulkWriter`: saves a batch at a time, for big loads (``bulk``)
(not in the book)      :class:`AggregateCache`, :func:`cached`: loads served from memory (``cache``)
=====================  ==============================================================
"""

from mallbots.es.aggregate import Aggregate
from mallbots.es.aggregate_store import AggregateStore, Middleware, with_middleware
from mallbots.es.cache import AggregateCache, CachingStore, cached
from mallbots.es.clock import UTC, Clock, SteppingClock, system_clock
from mallbots.es.dispatcher import EventDispatcher, Handler, HandlerError
from mallbots.es.duckdb.bulk import BulkTarget, BulkWriter
from mallbots.es.duckdb.check import CheckReport, Problem, check_database
from mallbots.es.duckdb.database import Database
from mallbots.es.duckdb.event_store import EventStore
from mallbots.es.duckdb.log import EventLog
from mallbots.es.duckdb.snapshots import SnapshotStore, snapshots
from mallbots.es.errors import (
    AggregateNotFoundError,
    ConcurrencyError,
    CorruptEventError,
    DatabaseInvalidatedError,
    DatabaseLockedError,
    DuplicateEventError,
    EventSourcingError,
    ForeignDatabaseError,
    NotADatabaseFileError,
    PayloadError,
    RegistryError,
    UnknownNameError,
)
from mallbots.es.event_rows import StreamAppend
from mallbots.es.events import AggregateEvent, Event
from mallbots.es.ids import IdFactory, SeededIds, random_ids
from mallbots.es.projection import Projection, RowBuffer, RowProjection, on
from mallbots.es.projector import Projector
from mallbots.es.publisher import EventPublisher, publisher
from mallbots.es.registry import Registry
from mallbots.es.repository import AggregateRepository
from mallbots.es.snapshots import EveryNEvents, SnapshotStrategy, never

__all__ = [
    "UTC",
    "Aggregate",
    "AggregateCache",
    "AggregateEvent",
    "AggregateNotFoundError",
    "AggregateRepository",
    "AggregateStore",
    "BulkTarget",
    "BulkWriter",
    "CachingStore",
    "CheckReport",
    "Clock",
    "ConcurrencyError",
    "CorruptEventError",
    "Database",
    "DatabaseInvalidatedError",
    "DatabaseLockedError",
    "DuplicateEventError",
    "Event",
    "EventDispatcher",
    "EventLog",
    "EventPublisher",
    "EventSourcingError",
    "EventStore",
    "EveryNEvents",
    "ForeignDatabaseError",
    "Handler",
    "HandlerError",
    "IdFactory",
    "Middleware",
    "NotADatabaseFileError",
    "PayloadError",
    "Problem",
    "Projection",
    "Projector",
    "Registry",
    "RegistryError",
    "RowBuffer",
    "RowProjection",
    "SeededIds",
    "SnapshotStore",
    "SnapshotStrategy",
    "SteppingClock",
    "StreamAppend",
    "UnknownNameError",
    "cached",
    "check_database",
    "never",
    "on",
    "publisher",
    "random_ids",
    "snapshots",
    "system_clock",
    "with_middleware",
]
