"""The bulk path: the shop's own commands, on a unit of work that batches.

Every step is ``shop.execute(command)``, as on the per-command path, so every rule the
modules hold is the one that runs. What changes is underneath them, for the length of
the run:

- each event-sourced module's store chain has, in place of its snapshot store, a
  :class:`~mallbots.es.duckdb.bulk.BulkStore`: an identity map over one
  :class:`~mallbots.es.duckdb.bulk.BulkWriter`, which writes events and snapshots a batch at
  a time (the publisher above it still hands each save's events to their handlers: the
  checkout's order, the invoice, the notifications);
- each plain module's table is a :class:`~mallbots.bulk_tables.BufferedTable`, whose
  changed rows the writer commits with each batch;
- a command's unit of work is a command of the writer, not a transaction: a batch is
  cut only between commands, so nothing a command caused is ever split from it;
- the inline read models pause (they are built from the log when the run ends), and
  the two that commands consult, the mall and the catalog, are kept in memory by their
  own projections' handlers, for the look-ups.

A refusal stops the run (the activity only issues commands the shop accepts): the
batch it fell in is dropped, the batches before it stay.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack, nullcontext
from typing import Any

from mallbots.app import MallBots
from mallbots.bulk_tables import BufferedTable
from mallbots.es import AggregateEvent, SteppingClock
from mallbots.es.duckdb.bulk import BulkStore, BulkTarget, BulkWriter
from mallbots.es.projection import Row, RowBuffer, RowProjection, RowWriter
from mallbots.service import batched
from mallbots.simulator.activity import Step
from mallbots.stores.catalog import CatalogProduct
from mallbots.stores.mall import MallStore
from mallbots.table import Table

FINISH_MEMORY_LIMIT = "640MB"
"""DuckDB's memory limit while a bulk run checkpoints and rebuilds its read models.

By then every event is in the file, so DuckDB can drop cached blocks rather than
grow beside the aggregates the run still holds. (An in-memory database keeps its
whole log in that memory, so it runs without the limit.)
"""

EVENT_SOURCED = ("stores", "baskets", "ordering")
PLAIN = ("customers", "payments", "depot", "notifications")
WRITE_ONLY = frozenset({"notifications.notifications"})
"""Plain tables whose rows no command reads back: let go once written, to bound memory
(about 300,000 notifications in the million-event run)."""
GROWING = frozenset({"payments.payments", "payments.invoices", "depot.shopping_lists"})
"""Plain tables that grow a row per order (330,000 rows in the million-event run): a
row idle for :data:`IDLE_BATCHES` whole batches is let go, and read back if a later
command needs it. A customer's row is never let go: a row per customer, often idle
between two visits (25,000 reads back, for 3 MiB)."""
IDLE_BATCHES = 2
"""Million-event run, alongside the run before: idle for 1 batch, peak -136 MiB but
21,500 rows read back, +8 CPU-s; for 2, peak -120 MiB at no measurable CPU; for 4,
-79 MiB."""


class BulkRunner:
    """Runs steps through the shop on a batching unit of work; :meth:`finish` ends it."""

    def __init__(self, shop: MallBots, clock: SteppingClock, batch_size: int = 50_000) -> None:
        if shop.aggregate_cache is not None:
            raise ValueError(
                "the bulk path writes around an aggregate cache; simulate into a shop "
                "opened without one (aggregate_cache=0)"
            )
        self.shop = shop
        self.clock = clock
        modules = {name: shop.modules[_module(r)] for name, r in shop.repositories.items()}
        targets = {name: BulkTarget(m.events, m.snapshots) for name, m in modules.items()}
        self.writer = BulkWriter(shop.database, targets, batch_size, background=True)
        self._undo = ExitStack()
        try:
            self._set_up()
        except BaseException:
            self._undo.close()
            self.writer.discard()
            raise

    def _set_up(self) -> None:
        shop, writer, undo = self.shop, self.writer, self._undo
        for name in EVENT_SOURCED:
            module = shop.modules[name]
            bulk = BulkStore(writer, module.snapshots, module.events)
            heads = {id(r.store): r for r in shop.repositories.values() if _module(r) == name}
            for repository in heads.values():
                undo.callback(_replace_link(repository, module.snapshots, bulk))
        for name in PLAIN:
            for repository in vars(shop.modules[name]).values():
                table = getattr(repository, "table", None)
                if isinstance(table, Table):
                    keep = table.name not in WRITE_ONLY
                    buffered = BufferedTable(
                        table,
                        keep_written=keep,
                        let_go_idle=IDLE_BATCHES if table.name in GROWING else None,
                        wait=writer.wait,
                    )
                    writer.row_sources.append(buffered)
                    repository.table = buffered
                    undo.callback(setattr, repository, "table", table)
        stores = shop.stores
        application = stores.application
        for attribute, projection, make in (
            ("mall", stores.mall_projection, MallStore),
            ("catalog", stores.catalog_projection, CatalogProduct),
        ):
            live = _LiveReadModel(projection, shop, make)
            undo.callback(setattr, application, attribute, getattr(application, attribute))
            setattr(application, attribute, live)
            undo.callback(live.stop)
        undo.enter_context(shop.projector.paused())
        undo.enter_context(batched(shop.database, writer))

    @property
    def events(self) -> int:
        """Events recorded so far (written or waiting in the batch)."""
        return self.writer.written + self.writer.pending

    def run(self, step: Step) -> None:
        """Move the clock to the step's moment and execute its command."""
        self.clock.advance_to(step.moment)
        self.shop.execute(step.command)

    def finish(self) -> None:
        """Write what is left of the batch, then bring the read models up to date.

        The shop held no events when the run began, so no read model has seen any: each
        that offers a set-based rebuild is built from the whole log in SQL (the rows its
        handlers would write, as ``tests/test_set_based.py`` checks on random logs), in
        seconds where replaying a million events through Python handlers takes half a
        minute. Any other catches up, reading the bulk load in one window.

        The writer closes (and checkpoints) first: rebuilding while the events were
        still only in memory cost 500 MiB more at the peak and saved no time. On a file,
        both run under :data:`FINISH_MEMORY_LIMIT`: the million-event preset's peak fell
        from 1,456 to 1,163 MiB, at the same speed.
        """
        projector = self.shop.projector
        database = self.shop.database
        limited = database.setting("memory_limit", FINISH_MEMORY_LIMIT)
        with nullcontext() if database.in_memory else limited:
            try:
                self.writer.flush()
            finally:
                self._let_go()
            self.writer.close()  # its checkpoint, with the run's memory already let go
            projector.build_unseen()
        projector.catch_up(window=max(self.writer.written, 1))

    def abort(self) -> None:
        """After a refusal: drop the unwritten batch, keep what was written, close."""
        try:
            self.writer.discard()
        finally:
            self._let_go()

    def _let_go(self) -> None:
        """Put the shop back as it was, and drop the run's aggregates and rows (before
        the read models are rebuilt, which is when a large run's memory peaks)."""
        self._undo.close()
        self.writer.row_sources.clear()
        self.writer.on_hand_over.clear()


class _RowsOfAnEmptyTable(RowWriter):
    """A row writer over a table that holds no rows: a key it has not seen has none."""

    def _load(self, keys: set[Any]) -> dict[Any, Row | None]:
        return dict.fromkeys(keys)


class _LiveReadModel:
    """A read model's rows kept in memory by its projection's handlers, for ``find``.

    Never written: the read model's table is built from the log when the run ends.
    """

    def __init__(self, projection: RowProjection, shop: MallBots, make: Callable[..., Any]):
        cursor = shop.database.cursor()
        (rows,) = cursor.execute(f"SELECT count(*) FROM {projection.table}").fetchone()
        self.writer = (RowWriter if rows else _RowsOfAnEmptyTable)(projection, cursor)
        self.projection = projection
        self.make = make
        self.active = True
        self._made: dict[str, Any] = {}  # what find made of each row, until it changes
        self._dispatcher = shop.dispatcher
        self._dispatcher.subscribe(self._handle, projection.handles)

    def _handle(self, event: AggregateEvent) -> None:
        if self.active:
            self.writer.apply([event])
            for key in self.projection.keys_of(event):
                self._made.pop(key, None)

    def stop(self) -> None:
        self._dispatcher.unsubscribe(self._handle)  # the shop outlives the run
        self.active = False
        self._made.clear()
        self.writer.rows = RowBuffer(self.projection.key_of, {}, lambda key: None)

    def find(self, key: str) -> Any:
        """The row with this key as the events so far made it, or None."""
        try:
            return self._made[key]
        except KeyError:
            row = self.writer.rows.get(key)
            made = self._made[key] = None if row is None else self.make(**row)
            return made


def _module(repository: Any) -> str:
    return repository.aggregate_name.partition(".")[0]


def _replace_link(holder: Any, target: Any, replacement: Any) -> Callable[[], None]:
    """Put ``replacement`` where ``target`` is in a store chain; returns the undo."""
    attribute = "store"
    while getattr(holder, attribute) is not target:
        holder = getattr(holder, attribute)
        attribute = "inner"
        if not hasattr(holder, attribute):
            raise TypeError(f"{target!r} is not in the store chain of {holder!r}")
    setattr(holder, attribute, replacement)
    return lambda: setattr(holder, attribute, target)
