"""The DuckDB database every store of the workbook writes to.

One :class:`Database` per file per process: DuckDB lets one process open a file
read-write, and inside that process every writer goes through this object. It gives

- a cursor per thread (DuckDB connections are not shared between threads),
- one write lock, so saves are serialised and global positions follow commit order,
- reentrant transactions with hooks that run only once a commit has succeeded,
- the counter of global log positions shared by every event table in the file.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb

from mallbots.es.duckdb.log_book import LogBook
from mallbots.es.errors import (
    DatabaseInvalidatedError,
    DatabaseLockedError,
    NotADatabaseFileError,
)
from mallbots.es.identifiers import checked_identifier, schema_sql

MEMORY = ":memory:"
CATALOG = "mallbots_db"
"""The name a database file is attached under (DuckDB would name it after the file)."""
_CURSOR_SETUP = "SET TimeZone = 'UTC'"
_OPEN: weakref.WeakValueDictionary[tuple[int, int], Database] = weakref.WeakValueDictionary()
"""The open databases by file identity: (device, inode), whatever name opened them."""
_OPEN_LOCK = threading.Lock()


def create_schema_of(cursor: duckdb.DuckDBPyConnection, table: str) -> None:
    """Create the schema of a qualified table name (``stores`` of ``stores.events``)."""
    for statement in schema_sql(table):
        cursor.execute(statement)


class Database:
    """A DuckDB database (a file or in memory) shared by the stores of one process."""

    def __init__(self, path: str | Path = MEMORY, *, read_only: bool = False) -> None:
        self.path = str(path)
        self.read_only = read_only
        self._connection = _connect(self.path, read_only)
        # Every cursor works in the file's catalog, with times in UTC.
        self._setup = _CURSOR_SETUP + ("" if self.in_memory else f"; USE {CATALOG}")
        self._local = threading.local()
        self._cursors: dict[threading.Thread, duckdb.DuckDBPyConnection] = {}
        """Each thread's cursor, to close with the database (or once its thread has ended)."""
        self._side_cursors: dict[threading.Thread, duckdb.DuckDBPyConnection] = {}
        """Each thread's second cursor (:meth:`side_cursor`), closed alike."""
        self._cursors_lock = threading.Lock()
        self._write_lock = threading.RLock()
        self.log_book = LogBook(self._write_lock)
        """The global log's bookkeeping: positions, its tables, removals from them."""
        self._parsed: dict[str, duckdb.Statement] = {}
        self._identity: tuple[int, int] | None = None  # (device, inode) of the file
        self.closed = False

    # --- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path = MEMORY, *, read_only: bool = False) -> Database:
        """Open a database file (created if missing), or a fresh in-memory database.

        Opening a file that this process already has open returns the same object, so
        every writer shares one lock and one position counter (asking read-only for a
        file this process writes gives that writer: DuckDB holds a file once per process).
        A file is the file itself (its device and inode), not its name: a hard link, a
        symbolic link, a bind mount or another spelling of the path share one Database.
        Two would each keep their own copy of the file in memory, and the one that wrote
        last would erase the other's commits.

        Another process may hold the file: several processes can read one file together,
        but while one process writes it no other may open it at all, not even read-only.
        Either way the refusal is a :class:`DatabaseLockedError` that says which process
        holds the file and what to do.
        """
        if str(path) == MEMORY:
            return cls(MEMORY, read_only=read_only)
        resolved = str(Path(path).expanduser().resolve())
        with _OPEN_LOCK:
            identity = _identity_of(resolved)
            existing = _OPEN.get(identity) if identity is not None else None
            if existing is not None and not existing.closed:
                if existing.read_only and not read_only:
                    raise DatabaseLockedError(
                        f"{resolved} is open read-only in this process (as "
                        f"{existing.path}); close it first to write"
                    )
                return existing
            database = cls(resolved, read_only=read_only)
            database._identity = _identity_of(resolved)  # the file exists now
            if database._identity is not None:
                _OPEN[database._identity] = database
            return database

    @classmethod
    def memory(cls) -> Database:
        """A fresh, private in-memory database."""
        return cls(MEMORY)

    @property
    def in_memory(self) -> bool:
        return self.path == MEMORY

    def close(self) -> None:
        """Close every cursor and the connection. The object cannot be used afterwards."""
        if self.closed:
            return
        with self._write_lock:
            self.closed = True
            with self._cursors_lock:
                for cursor in [*self._cursors.values(), *self._side_cursors.values()]:
                    cursor.close()
                self._cursors.clear()
                self._side_cursors.clear()
            self._connection.close()
        with _OPEN_LOCK:
            if self._identity is not None and _OPEN.get(self._identity) is self:
                del _OPEN[self._identity]

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else ("read-only" if self.read_only else "open")
        return f"Database({self.path!r}, {state})"

    # --- cursors ---------------------------------------------------------------------------

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor (created on first use)."""
        self._require_open()  # this thread's cursor, if any, was closed with it
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._connection.cursor()
            cursor.execute(self._setup)
            with self._cursors_lock:
                self._close_cursors_of_ended_threads()
                self._cursors[threading.current_thread()] = cursor
            self._local.cursor = cursor
            self._local.depth = 0
            self._local.on_commit = []
            self._local.on_rollback = []
        return cursor

    def side_cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's second cursor (created on first use), outside its transaction.

        It reads what is committed. A read that fails on it (a damaged storage block)
        leaves this thread's transaction alive, where DuckDB aborts a transaction in
        which any statement failed: for reading a cache that may be damaged.
        """
        self._require_open()
        cursor = getattr(self._local, "side_cursor", None)
        if cursor is None:
            cursor = self._connection.cursor()
            cursor.execute(self._setup)
            with self._cursors_lock:
                self._close_cursors_of_ended_threads()
                self._side_cursors[threading.current_thread()] = cursor
            self._local.side_cursor = cursor
        return cursor

    def _require_open(self) -> None:
        if self.closed:
            raise RuntimeError(
                f"{self!r} is closed; whatever was opened on it in this process, "
                "such as every shop opened on the same file, was closed with it"
            )

    def _close_cursors_of_ended_threads(self) -> None:
        """A server that starts a thread per request would otherwise keep every cursor."""
        for cursors in (self._cursors, self._side_cursors):
            for thread in [thread for thread in cursors if not thread.is_alive()]:
                cursors.pop(thread).close()

    @contextmanager
    def fresh_cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of its own, closed on exit: for long reads beside this thread's writes."""
        self._require_open()
        cursor = self._connection.cursor()
        cursor.execute(self._setup)
        try:
            yield cursor
        finally:
            cursor.close()

    def execute(
        self, sql: str | duckdb.Statement, parameters: object = None
    ) -> duckdb.DuckDBPyConnection:
        """Run one statement (SQL text or :meth:`parsed`) on this thread's cursor."""
        cursor = self.cursor()
        try:
            if parameters is None:
                return cursor.execute(sql)
            return cursor.execute(sql, parameters)
        except duckdb.Error as error:
            if _invalidated(error):
                raise _invalidation_explained(self.path, error) from error
            raise

    def tables_in(self, schemas: Sequence[str]) -> list[str]:
        """The qualified names of the tables in ``schemas``, sorted (as
        :meth:`PostgresDatabase.tables_in <mallbots.es.postgres.PostgresDatabase.tables_in>`)."""
        rows = self.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' AND table_schema IN (SELECT unnest($1)) "
            "ORDER BY 1",
            [list(schemas)],
        ).fetchall()
        return [name for (name,) in rows]

    def has_table(self, name: str) -> bool:
        """Whether this database holds the table ``name`` (``schema.table``, or ``table``
        in ``main``)."""
        schema, _, table = name.rpartition(".")
        (found,) = self.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = $1 AND table_name = $2",
            [schema or "main", table],
        ).fetchone()
        return found > 0

    def parsed(self, sql: str) -> duckdb.Statement:
        """One statement of SQL, parsed once and kept: the stores' hot queries.

        DuckDB's parser costs up to a tenth of a millisecond a statement, a fifth of a
        point query; a parsed statement runs on any cursor, in any thread, with fresh
        parameters each time.
        """
        statement = self._parsed.get(sql)
        if statement is None:
            (statement,) = self.cursor().extract_statements(sql)
            self._parsed[sql] = statement
        return statement

    @contextmanager
    def setting(self, name: str, value: str) -> Iterator[None]:
        """Change one of DuckDB's settings (``memory_limit``...) for a while, then put it back.

        Back means the default if it was the default: DuckDB shows sizes rounded, and
        setting the shown value again would not give the same limit.
        """
        checked = checked_identifier(name)
        current = f"SELECT current_setting('{checked}')"
        (before,) = self.execute(current).fetchone()
        self.execute(f"SET {checked} = $1", [value])
        try:
            yield
        finally:
            if not self.closed:  # a closed database's settings went with its connection
                self.execute(f"RESET {checked}")
                if self.execute(current).fetchone()[0] != before:
                    self.execute(f"SET {checked} = $1", [before])

    # --- writing ---------------------------------------------------------------------------

    @property
    def write_lock(self) -> threading.RLock:
        """The lock every writer holds; hold it to keep writers out for a while."""
        return self._write_lock

    @property
    def in_transaction(self) -> bool:
        """Whether this thread has a transaction open."""
        return getattr(self._local, "depth", 0) > 0

    @contextmanager
    def writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Hold the write lock; statements autocommit unless a transaction is open."""
        cursor = self.cursor()
        with self._write_lock:
            yield cursor

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A transaction: all or nothing. Nested uses join the outermost one."""
        cursor = self.cursor()
        with self._write_lock:
            local = self._local
            if local.depth:
                local.depth += 1
                try:
                    yield cursor
                finally:
                    local.depth -= 1
                return
            cursor.begin()
            local.depth = 1
            position_at_begin = self.log_book.last_position
            try:
                yield cursor
                cursor.commit()
            except BaseException as error:
                local.depth = 0
                self.log_book.release_positions(position_at_begin + 1)
                _rollback_quietly(cursor)
                hooks, local.on_rollback, local.on_commit = local.on_rollback, [], []
                for hook in hooks:
                    hook()
                if _invalidated(error):
                    raise _invalidation_explained(self.path, error) from error
                raise
            local.depth = 0
            hooks, local.on_commit, local.on_rollback = local.on_commit, [], []
            for hook in hooks:
                hook()

    def after_commit(self, hook: Callable[[], None], on_rollback: Callable[[], None] | None = None):
        """Run ``hook`` once the current transaction commits (at once outside one)."""
        if self.in_transaction:
            self._local.on_commit.append(hook)
            if on_rollback is not None:
                self.on_rollback(on_rollback)
        else:
            hook()

    def on_rollback(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` if the current transaction rolls back (nothing outside one)."""
        if self.in_transaction:
            self._local.on_rollback.append(hook)

    # --- the global log (kept by the log book; these two are read by every backend) -------

    @property
    def last_position(self) -> int:
        """The highest global position handed out (committed or in this transaction)."""
        return self.log_book.last_position

    @property
    def log_tables(self) -> tuple[str, ...]:
        """The event tables that make up the global log, in registration order."""
        return self.log_book.tables


def _identity_of(path: str) -> tuple[int, int] | None:
    """The (device, inode) of a database file, None if there is none yet.

    Anything but a regular file is refused: DuckDB would block on a FIFO, and would
    replace a device node or write into whatever a special file stands for.
    """
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(status.st_mode):
        raise NotADatabaseFileError(
            f"{path} is {file_kind(status.st_mode)}, not a database file: give the path "
            "of a DuckDB file, or of a new file to create"
        )
    return status.st_dev, status.st_ino


def file_kind(mode: int) -> str:
    """What a file of this ``st_mode`` is, in words (``a directory``, ``a FIFO``...)."""
    kinds = [
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISREG, "a regular file"),
    ]
    return next((words for test, words in kinds if test(mode)), "a special file")


def duckdb_explained(error: duckdb.Error, path: str | None) -> str:
    """DuckDB's message for a user: one line, without the SQL it quotes, naming the file."""
    if _invalidated(error):
        return str(_invalidation_explained(path or "the database", error))
    message = without_sql(str(error))
    if path and path not in message:
        message = f"{path}: {message}"
    return message


def without_sql(message: str) -> str:
    """A message on one line, without the SQL DuckDB quotes after it (``LINE 1: ...``)."""
    return " ".join(re.split(r"\n\s*LINE \d+:", message)[0].split())


def _invalidated(error: BaseException) -> bool:
    text = str(error).lower()
    return isinstance(error, duckdb.Error) and (
        "invalidated" in text or "detach and reattach" in text
    )


def _invalidation_explained(path: str, error: duckdb.Error) -> DatabaseInvalidatedError:
    """DuckDB's "detach and reattach", said as what it means for the shop's user."""
    cause = re.search(r"Original error: (.*)", str(error), re.DOTALL)
    why = " ".join((cause.group(1) if cause else str(error)).split())[:200]
    return DatabaseInvalidatedError(
        f"{path} cannot be used any more in this process: a write to it failed ({why}). "
        "Close the shop and open it again (shop.close(), then MallBots.open(path); at the "
        "command line, run the command again once the cause, such as a full disk, is "
        "fixed): what was committed before is kept, the failed change is not."
    )


def _rollback_quietly(cursor: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):  # a failed statement may have ended it already
        cursor.rollback()


def _connect(path: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    if path == MEMORY:
        connection = duckdb.connect(MEMORY, read_only=read_only)
        connection.execute(_CURSOR_SETUP)
        return connection
    # DuckDB names a file's catalog after the file, so in "bank.duckdb" the table
    # "bank.events" would be ambiguous (catalog bank, or schema bank?). Attached under a
    # fixed name instead, any file name works with any schema name.
    connection = duckdb.connect(MEMORY)
    try:
        connection.execute(
            f"ATTACH $1 AS {CATALOG}" + (" (READ_ONLY)" if read_only else ""), [path]
        )
    except duckdb.IOException as error:
        connection.close()
        if "lock" in str(error).lower():
            raise DatabaseLockedError(_lock_explained(path, read_only, str(error))) from None
        if read_only and "does not exist" in str(error):
            raise FileNotFoundError(
                f"{path} does not exist, and a read-only Database cannot create it"
            ) from None
        raise
    except duckdb.Error as error:
        connection.close()
        if "already attached" in str(error):
            raise DatabaseLockedError(
                f"{path} is already open in this process: use Database.open(path), which "
                "hands every caller the same Database (DuckDB holds a file once per process)."
            ) from None
        raise
    except BaseException:
        connection.close()
        raise
    (attached,) = connection.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = $1", [CATALOG]
    ).fetchone()
    if attached is None:  # DuckDB attaches a Parquet or CSV file as an empty in-memory one
        connection.close()
        raise duckdb.IOException(
            f"{path} is not a DuckDB database file (a data file such as Parquet or CSV?): "
            "nothing written to it would be kept. Give a new file name or a DuckDB file; "
            "read data files with DuckDB's read_parquet or read_csv."
        )
    connection.execute(f"{_CURSOR_SETUP}; USE {CATALOG}")
    return connection


def _lock_explained(path: str, read_only: bool, message: str) -> str:
    """DuckDB's lock error, told as what happened and what to do."""
    holder = re.search(r"PID (\d+)", message)
    who = f"process {holder.group(1)}" if holder else "another process"
    if "read-only mode" in message:  # DuckDB adds this hint when the holder only reads
        return (
            f"{path} is open read-only in {who}, and DuckDB lets a process write a file only "
            "while no other process has it open. Close that reader (its Database, program "
            "or notebook kernel) and try again, or open this one read-only too: "
            "Database.open(path, read_only=True)."
        )
    if read_only:
        return (
            f"cannot open {path} read-only: it is open read-write in {who}, and DuckDB does "
            "not let another process read a file while one process writes it, not even "
            "read-only. Read it in that process (through its Database), or close it there "
            "(Database.close(), or stop that program or notebook kernel) and open it again; "
            "any number of processes may read a file together once nobody writes it."
        )
    return (
        f"{path} is open read-write in {who}. DuckDB lets one process write a "
        "file at a time: close that program or notebook kernel (or its "
        "Database) and try again, or work on a copy of the file."
    )
