"""The event-sourcing core: the book's ``internal/es``, ``internal/registry`` and
``internal/postgres`` in Python, over DuckDB (``es/duckdb``) or PostgreSQL (``es/postgres``).

The names here are the ones the workbook uses; everything else is imported from its
module (``mallbots.es.cache``, ``mallbots.es.duckdb.bulk``, ``mallbots.es.ports`` ...).

=====================  ==============================================================
book (Go)              here
=====================  ==============================================================
``ddd.Event``          :class:`Event`, :class:`AggregateEvent` (``events``)
``es.Aggregate``       :class:`Aggregate` (``aggregate``)
``registry``           :class:`Registry` (``registry``, ``serde``)
``postgres.EventStore``  :class:`EventStore` (``duckdb.event_store``), :class:`EventLog`
                       (``duckdb.log``, on ``global_log``); the storage port: ``ports``
``postgres.SnapshotStore``  :class:`SnapshotStore` (``duckdb.snapshots``), strategies
                       (``snapshots``)
``es.AggregateStore``  :class:`AggregateStore`, :func:`with_middleware` (``aggregate_store``);
                       the whole chain: ``chain.store_chain``
``es.EventPublisher``  :func:`publisher` (``publisher``)
``ddd.EventDispatcher``  :class:`EventDispatcher` (``dispatcher``)
``es.AggregateRepository``  :class:`AggregateRepository` (``repository``)
read-model handlers    :class:`Projection`, :class:`RowProjection` (``projection``),
                       :class:`Projector` with checkpoints (``projector``)
(not in the book)      damage in the event tables (``duckdb.check``), big loads
                       (``duckdb.bulk``), loads served from memory (``cache``)
=====================  ==============================================================
"""

from mallbots.es.aggregate import Aggregate
from mallbots.es.aggregate_store import AggregateStore, with_middleware
from mallbots.es.clock import SteppingClock
from mallbots.es.dispatcher import EventDispatcher, HandlerError
from mallbots.es.duckdb.database import Database
from mallbots.es.duckdb.event_store import EventStore
from mallbots.es.duckdb.log import EventLog
from mallbots.es.duckdb.snapshots import SnapshotStore, snapshots
from mallbots.es.errors import (
    AggregateNotFoundError,
    ConcurrencyError,
    CorruptEventError,
    DuplicateEventError,
    EventSourcingError,
    PayloadError,
    UnknownNameError,
)
from mallbots.es.events import AggregateEvent, Event
from mallbots.es.ids import SeededIds
from mallbots.es.projection import Projection, RowBuffer, RowProjection, on
from mallbots.es.projector import Projector
from mallbots.es.publisher import publisher
from mallbots.es.registry import Registry
from mallbots.es.repository import AggregateRepository
from mallbots.es.snapshots import EveryNEvents, never

__all__ = [
    "Aggregate",
    "AggregateEvent",
    "AggregateNotFoundError",
    "AggregateRepository",
    "AggregateStore",
    "ConcurrencyError",
    "CorruptEventError",
    "Database",
    "DuplicateEventError",
    "Event",
    "EventDispatcher",
    "EventLog",
    "EventSourcingError",
    "EventStore",
    "EveryNEvents",
    "HandlerError",
    "PayloadError",
    "Projection",
    "Projector",
    "Registry",
    "RowBuffer",
    "RowProjection",
    "SeededIds",
    "SnapshotStore",
    "SteppingClock",
    "UnknownNameError",
    "never",
    "on",
    "publisher",
    "snapshots",
    "with_middleware",
]
