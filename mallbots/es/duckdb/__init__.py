"""The event store on DuckDB: the embedded default, one writing process per file.

=========================  ==========================================================
job                        module
=========================  ==========================================================
connections, transactions  :class:`Database` (``database``)
the log's bookkeeping      :class:`LogBook` (``log_book``): positions, tables, removals
the event store            :class:`EventStore` (``event_store``), assembled from
                           ``bulk_append``, ``stream_heads``, ``archive``,
                           ``stream_reads``; columns and DDL in ``schema``
the global log             :class:`EventLog` (``log``)
snapshots' table           :class:`SnapshotStore`, :func:`snapshots` (``snapshots``)
big loads                  :class:`BulkWriter` (``bulk``)
damage in the tables       :func:`check_database` (``check``)
DataFrames in and out      ``frames``
=========================  ==========================================================

``duckdb`` is imported here and on the read side (read models, set-based rebuilds,
reports), nowhere else in the event-sourcing core: the core talks to storage through
the protocols of :mod:`mallbots.es.ports`, which the PostgreSQL store
(the PostgreSQL store (``es/postgres``)) satisfies too.
"""
