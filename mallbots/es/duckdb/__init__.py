"""The event store on DuckDB: the embedded default, one writing process per file.

=========================  ==========================================================
job                        module
=========================  ==========================================================
connections, transactions  :class:`Database` (``database``)
appending, reading         :class:`EventStore` (``event_store``)
the global log             :class:`EventLog` (``log``)
snapshots' table           :class:`DuckDBSnapshotStore`, :func:`snapshots` (``snapshots``)
big loads                  :class:`BulkWriter` (``bulk``)
damage in the tables       :func:`check_database` (``check``)
DataFrames in and out      ``frames``
=========================  ==========================================================

``duckdb`` is imported here and on the read side (read models, set-based rebuilds,
reports), nowhere else in the event-sourcing core: the core talks to storage through
the protocols of :mod:`mallbots.es.ports`, which the PostgreSQL store
(the PostgreSQL store (``es/postgres``)) satisfies too.
"""
