"""The read side of a shop kept in PostgreSQL: a local mirror of the log, and the read
models caught up from it.

A shop on a ``postgresql://`` URL writes to the server (one transaction a command) and
reads from DuckDB, as a shop on a file does: :class:`ServerReadSide` keeps that DuckDB
up to date. It copies the events the server has committed into the mirror
(:class:`~mallbots.es.postgres.mirror.LogMirror`) and hands them to the projector in
the same DuckDB transaction, so the read models, their checkpoints and the mirror's
head move together. It does so

- after each command of this process commits (its events were published), so the
  shop reads its own writes;
- before each ``shop.execute``, and each read of the shop's frames, so a command's
  checks and a query see other processes' commits too (two small queries when the log
  has not moved);
- whenever asked: ``shop.catch_up()`` (inside a server transaction of this thread, once
  it commits: what the thread sees there is not committed yet).

The mirror holds, beside the log, copies of the server's snapshots, continuations and
plain tables, caught up in the same DuckDB transaction as the events (see
:mod:`mallbots.es.postgres.table_mirror`): a command that writes only a plain table (a
customer registered) is caught up after too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from mallbots.es import Database, EventDispatcher, EventLog, Projector

T = TypeVar("T")

INLINE_CATCH_UP = 1000
"""A catch-up of at most this many positions hands the events to the projector one by
one, as a DuckDB shop's saves do; a longer one builds the read models that have seen
nothing yet by SQL (a student joining a busy mall) and catches the rest up window by
window."""


class ServerReadSide:
    """Keeps a DuckDB mirror of a PostgreSQL log, and the read models on it, caught up."""

    def __init__(
        self,
        server: Any,
        database: Database,
        log: EventLog,
        projector: Projector,
        dispatcher: EventDispatcher,
    ) -> None:
        from mallbots.es.postgres.mirror import LogMirror  # the driver, only when asked

        self.server = server
        self.database = database
        self.log = log
        self.projector = projector
        self.mirror = LogMirror(server, database)
        self._scheduled = threading.local()
        dispatcher.subscribe(lambda event: self.schedule())  # an event saved: once it commits

    @property
    def copied_tables(self) -> set[str]:
        """The server's tables this read side copies into its DuckDB: the log's, and the
        tracked tables (snapshots, continuations, plain tables)."""
        return {*self.database.log_tables, *self.mirror.tables.tables}

    def catch_up(self) -> int:
        """Copy what the server committed since the last catch-up and project it, in one
        DuckDB transaction; how many events the read models took in."""
        if self.server.in_transaction:  # what this thread sees there is not committed
            self.schedule()
            return 0
        self._scheduled.caught_up = getattr(self._scheduled, "caught_up", 0) + 1
        with self.database.write_lock:  # one catch-up at a time: each copies what it finds
            span = self.mirror.behind()
            if span is None:
                return 0
            after = span.after
            with self.database.transaction():
                up_to = self.mirror.copy(span)
                if up_to - after > INLINE_CATCH_UP:
                    return self.projector.build_unseen() + self.projector.catch_up()
                events = self.log.read_range(after, up_to) if up_to > after else []
                for event in events:
                    self.projector.handle(event)
                return len(events)

    def fresh(self) -> None:
        """Catch up before a read, unless this thread is inside a server transaction (a
        command running: its reads see what was committed before it)."""
        if not self.server.in_transaction:
            self.catch_up()

    def after_command(self, command: Callable[[], T]) -> T:
        """Run a command of this process, and catch up once it commits: its events
        caught up already (see :meth:`schedule`), but a command may write only plain
        tables (a customer registered)."""
        before = getattr(self._scheduled, "caught_up", 0)
        result = command()
        if self.server.in_transaction:  # the caller's transaction: once it commits
            self.schedule()
        elif getattr(self._scheduled, "caught_up", 0) == before:
            self.catch_up()
        return result

    def schedule(self) -> None:
        """Once this thread's server transaction commits, catch up (once per
        transaction, however many events it saved); at once outside one."""
        scheduled = self._scheduled
        if getattr(scheduled, "pending", False):
            return
        scheduled.pending = True

        def done() -> None:
            scheduled.pending = False

        def caught_up() -> None:
            done()
            self.catch_up()

        self.server.after_commit(caught_up, on_rollback=done)
