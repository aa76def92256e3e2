"""A PostgreSQL database shared by many processes: connections, transactions, positions.

The counterpart of :class:`mallbots.es.duckdb.database.Database` for a server. Each thread has
a connection of its own; transactions nest (an inner one joins the outermost) and run
hooks once they commit or roll back, as on DuckDB. What differs is that other
processes write too, so nothing about the log is kept in memory: the last position is
a row of the database (see :mod:`mallbots.es.postgres.schema`), claimed inside the
appending transaction.

Two timeouts keep one stuck session from stalling everyone: a write waits at most
``lock_timeout`` seconds for another transaction's locks, and the server ends a
session whose transaction sits idle for ``idle_in_transaction_timeout`` seconds (a
notebook kernel left in the middle of a ``with shop.transaction():`` block).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.pq import TransactionStatus

from mallbots.es.duckdb.database import Database
from mallbots.es.postgres.errors import (
    ServerBusyError,
    ServerUnavailableError,
    SessionEndedError,
    TransactionAbortedError,
)
from mallbots.es.postgres.schema import (
    DDL_LOCK,
    EVENT_TABLES,
    LOG_SQL,
    POSITION_TABLE,
)
from mallbots.es.urls import shown_url

if TYPE_CHECKING:
    from mallbots.es.postgres.statements import PostgresStatements


class _Translated:
    """The block of :meth:`PostgresDatabase.translated_errors`."""

    __slots__ = ("database",)

    def __init__(self, database: PostgresDatabase) -> None:
        self.database = database

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, error: BaseException | None, traceback: object) -> bool:
        if error is not None:
            self.database._translate(error)
        return False


class PostgresDatabase:
    """A PostgreSQL database, reached by URL, shared by the stores of one process."""

    read_only = False

    def __init__(
        self,
        url: str,
        *,
        lock_timeout: float = 5.0,
        idle_in_transaction_timeout: float = 60.0,
        create: bool = True,
    ) -> None:
        if lock_timeout <= 0 or idle_in_transaction_timeout <= 0:
            raise ValueError("the lock and idle-in-transaction timeouts must be positive")
        self.url = url
        self.lock_timeout = lock_timeout
        self.idle_in_transaction_timeout = idle_in_transaction_timeout
        self._local = threading.local()
        self._connections: dict[threading.Thread, psycopg.Connection] = {}
        """Each thread's connection, closed with the database or once its thread has ended."""
        self._connections_lock = threading.Lock()
        self._log_tables: tuple[str, ...] = ()
        self._translated = _Translated(self)
        self.closed = False
        if create:
            self.create(LOG_SQL)

    @classmethod
    def open(cls, url: str, *, create: bool = True, **timeouts: float) -> PostgresDatabase:
        """Connect to the database at ``url`` (``postgresql://user@host:port/name``).

        It gains the log's bookkeeping tables (:data:`~mallbots.es.postgres.schema.LOG_SQL`)
        unless ``create`` is false: then connecting writes nothing, for reading a database
        that may not be a shop's, or creating those tables in a transaction of one's own.
        """
        return cls(url, create=create, **timeouts)

    def close(self) -> None:
        """Close every thread's connection. The object cannot be used afterwards."""
        self.closed = True
        with self._connections_lock:
            for connection in self._connections.values():
                connection.close()
            self._connections.clear()

    def __enter__(self) -> PostgresDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PostgresDatabase({shown_url(self.url)!r}, {'closed' if self.closed else 'open'})"

    # --- connections -----------------------------------------------------------------------

    def connection(self) -> psycopg.Connection:
        """This thread's connection, opened on first use and again after the server ended it."""
        if self.closed:
            raise RuntimeError(f"{self!r} is closed")
        connection = getattr(self._local, "connection", None)
        if connection is None or connection.closed:
            connection = self._connect()
            self._local.connection = connection
            self._local.depth = 0
            self._local.on_commit, self._local.on_rollback = [], []
            with self._connections_lock:
                for thread in [t for t in self._connections if not t.is_alive()]:
                    self._connections.pop(thread).close()  # a server's finished request
                self._connections[threading.current_thread()] = connection
        return connection

    def _connect(self) -> psycopg.Connection:
        try:
            connection = psycopg.connect(self.url, autocommit=True, application_name="mallbots")
        except psycopg.Error as error:
            raise ServerUnavailableError(
                f"cannot connect to the PostgreSQL database {shown_url(self.url)}: "
                f"{str(error).strip()}. Check that the server runs, and the host, port, "
                "user and database name in the URL."
            ) from None
        connection.execute(
            f"SET TimeZone = 'UTC'; "
            f"SET lock_timeout = {round(self.lock_timeout * 1000)}; "
            f"SET idle_in_transaction_session_timeout = "
            f"{round(self.idle_in_transaction_timeout * 1000)}"
        )
        return connection

    def execute(self, sql: str, parameters: Any = None) -> psycopg.Cursor:
        """Run one statement on this thread's connection; a cursor holding its result."""
        with self.translated_errors():
            return self.connection().execute(sql, parameters)

    # --- transactions ----------------------------------------------------------------------

    in_transaction = Database.in_transaction

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Cursor]:
        """A transaction: all or nothing. Nested uses join the outermost one."""
        connection = self.connection()
        local = self._local
        if local.depth:
            local.depth += 1
            try:
                yield connection.cursor()
            finally:
                local.depth -= 1
            return
        local.depth = 1
        try:
            with self.translated_errors():
                cursor = connection.execute("BEGIN")
                yield cursor
                if connection.info.transaction_status == TransactionStatus.INERROR:
                    raise TransactionAbortedError(
                        f"a statement failed inside this transaction on "
                        f"{shown_url(self.url)}, so PostgreSQL refuses to commit it: nothing "
                        "of the transaction was written; start it again"
                    )
                connection.execute("COMMIT")
        except BaseException:
            local.depth = 0
            if not connection.closed:
                with contextlib.suppress(psycopg.Error):
                    connection.execute("ROLLBACK")
            hooks, local.on_rollback, local.on_commit = local.on_rollback, [], []
            for hook in hooks:
                hook()
            raise
        local.depth = 0
        hooks, local.on_commit, local.on_rollback = local.on_commit, [], []
        for hook in hooks:
            hook()

    # Run hooks once the transaction commits or rolls back: as on DuckDB, on the same
    # per-thread state (``depth``, ``on_commit``, ``on_rollback``).
    after_commit = Database.after_commit
    on_rollback = Database.on_rollback

    def translated_errors(self) -> AbstractContextManager[None]:
        """A block whose server refusals that a user can meet become errors that say what
        to do (a plain object, not a generator: it wraps every statement)."""
        return self._translated

    def _translate(self, error: BaseException) -> None:
        """Raise the error that says what to do about ``error``, if it is one a user can
        meet; else return (and ``error`` goes on)."""
        if isinstance(error, pg_errors.LockNotAvailable):
            raise ServerBusyError(
                f"waited {self.lock_timeout:g} s on {shown_url(self.url)} for another "
                "session's transaction (a notebook kernel stopped inside a transaction?): "
                "nothing was written. Try again; the server ends a transaction left idle "
                f"after {self.idle_in_transaction_timeout:g} s."
            ) from None
        connection = getattr(self._local, "connection", None)
        if isinstance(error, pg_errors.IdleInTransactionSessionTimeout) or (
            isinstance(error, psycopg.OperationalError)
            and connection is not None
            and connection.closed
        ):
            raise SessionEndedError(
                f"the server {shown_url(self.url)} ended this session (a transaction "
                f"left idle for more than {self.idle_in_transaction_timeout:g} s, or a "
                "restart): nothing of its open transaction was written. Run the "
                "command again; a new session is opened for it."
            ) from None

    # --- the global log --------------------------------------------------------------------

    @property
    def last_position(self) -> int:
        """The highest global position committed (or claimed in this thread's transaction)."""
        (last,) = self.execute(f"SELECT last_position FROM {POSITION_TABLE}").fetchone()
        return last

    def create(self, statements: list[str]) -> None:
        """Run DDL in one transaction, one session at a time (see ``schema.DDL_LOCK``)."""
        with self.transaction() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [DDL_LOCK])
            for statement in statements:
                cursor.execute(statement)

    @property
    def log_tables(self) -> tuple[str, ...]:
        """The event tables of the global log, as last read (see :meth:`refresh_log_tables`)."""
        return self._log_tables or self.refresh_log_tables()

    def refresh_log_tables(self) -> tuple[str, ...]:
        """Read which event tables make up the global log (other processes add some)."""
        rows = self.execute(f"SELECT name FROM {EVENT_TABLES} ORDER BY name").fetchall()
        self._log_tables = tuple(name for (name,) in rows)
        return self._log_tables

    # --- plain tables ----------------------------------------------------------------------

    def statements(self) -> PostgresStatements:
        """What a :class:`mallbots.table.Table` runs here (DuckDB's ``$n`` SQL, translated)."""
        from mallbots.es.postgres.statements import PostgresStatements

        return PostgresStatements(self)

    def tables_in(self, schemas: Sequence[str]) -> list[str]:
        """The qualified names of the tables in ``schemas``, sorted."""
        rows = self.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' AND table_schema = ANY(%s) ORDER BY 1",
            [list(schemas)],
        ).fetchall()
        return [name for (name,) in rows]
