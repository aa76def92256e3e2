"""The ``mallbots`` command line.

Each command is a subcommand with its own parser and a ``run`` function; to add one,
write ``add_<name>(subcommands)`` and list it in :data:`COMMANDS`. Bad arguments and
refused commands end with one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import duckdb
import pandas as pd

from mallbots.app import DEFAULT_DATABASE, MallBots
from mallbots.demo import run_demo
from mallbots.errors import DomainError
from mallbots.es import Database, EventSourcingError, HandlerError
from mallbots.es.duckdb.database import MEMORY, duckdb_explained, file_kind, without_sql
from mallbots.es.lifetimes import events_per_type, lifetime_summary
from mallbots.es.urls import is_server_url, shown
from mallbots.ownership import EmptyDatabaseError, require_shop
from mallbots.reading import behind_note, open_for_reading, read_log
from mallbots.shop_check import check_shop
from mallbots.shop_copy import copy_shop
from mallbots.simulator import PRESETS, simulate
from mallbots.simulator.export import export_log
from mallbots.simulator.run import simulate_to_server

PROGRAM = "mallbots"
LARGEST_COUNT = 1_000_000_000
"""The most events a count argument (``--events``, ``--last``) may ask for."""
LARGEST_SEED = 2**63 - 1


class UsageError(Exception):
    """Bad command-line arguments."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, raised rather than printed."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


# --- demo ------------------------------------------------------------------------------------


def add_demo(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "demo",
        help="run a small shop and print its read models",
        description="Run a small shop (two stores, a customer, a basket checked out and its "
        "order paid) on a database file, then print the read models.",
    )
    add_database_option(parser)
    parser.add_argument(
        "--seed",
        type=seed_argument,
        help="seed ids and times, so the same file state gives the same output",
    )
    parser.set_defaults(run=demo)


def demo(args: argparse.Namespace) -> int:
    with MallBots.open(args.db, seed=args.seed) as shop:
        ids = run_demo(shop)
        print(f"MallBots demo on {shown(args.db)}: order {ids.order} placed, readied and paid.\n")
        for table in ("stores.stores", "stores.products"):
            print_table(shop, table)
        print(f"The log holds {shop.log.count()} events.")
    return 0


# --- simulate --------------------------------------------------------------------------------


def add_simulate(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "simulate",
        help="fill a new database with seeded mall activity",
        description="Simulate a mall (stores, products, customers, baskets, orders) through "
        "the real aggregates into a new database file. The same preset and seed give the "
        "same log, byte for byte.",
    )
    add_database_option(parser)
    parser.add_argument("--preset", choices=list(PRESETS), default="classroom")
    parser.add_argument("--seed", type=seed_argument, default=42, help="the seed (default: 42)")
    parser.add_argument(
        "--events", type=count_argument, metavar="N", help="stop once the log holds N events"
    )
    parser.add_argument(
        "--per-command",
        action="store_true",
        help="run each step as one shop command (slow; also fills the plain tables)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing file")
    parser.add_argument("--parquet", metavar="PATH", help="also write the log to a Parquet file")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(run=simulate_command)


def simulate_command(args: argparse.Namespace) -> int:
    config = PRESETS[args.preset].with_changes(seed=args.seed)
    if args.events is not None:
        config = config.with_changes(max_events=args.events)
    if is_server_url(args.db) and args.overwrite:
        raise UsageError(
            f"--overwrite replaces a database file; a PostgreSQL database ({shown(args.db)}) "
            "is not replaced: simulate into a new, empty one"
        )
    if is_server_url(args.db) and not args.per_command:
        return simulate_to_server_command(args, config)
    if args.db != MEMORY and not is_server_url(args.db) and os.path.lexists(args.db):
        if not args.overwrite:
            raise UsageError(f"{args.db} exists; pass --overwrite to replace it")
        delete_shop_file(args.db)
    progress = False if args.no_progress else None
    shop, result = simulate(config, args.db, bulk=not args.per_command, progress=progress)
    with shop:
        if args.parquet:
            export_log(shop, args.parquet)
    where = "memory" if args.db == MEMORY else shown(args.db)
    print(
        f"Simulated {result.days} day(s) of the {args.preset!r} mall (seed {args.seed}) into "
        f"{where}: {result.events:,} events in {result.seconds:.1f} s "
        f"({result.events_per_second:,.0f} events/s)."
    )
    return 0


def simulate_to_server_command(args: argparse.Namespace, config: Any) -> int:
    """A bulk simulation for a server: into a temporary DuckDB file, then copied over."""
    progress = False if args.no_progress else None
    parquet = (lambda shop: export_log(shop, args.parquet)) if args.parquet else None
    result, copied = simulate_to_server(config, args.db, progress=progress, before_copy=parquet)
    print(
        f"Simulated {result.days} day(s) of the {args.preset!r} mall (seed {args.seed}) in "
        f"bulk: {result.events:,} events in {result.seconds:.1f} s "
        f"({result.events_per_second:,.0f} events/s); copied to {shown(args.db)}: "
        f"{copied.total:,} rows in {copied.seconds:.1f} s."
    )
    return 0


def delete_shop_file(path: str) -> None:
    """Delete a shop's database file (and its write-ahead log) for ``--overwrite``.

    Only a regular file the shop made, or an empty one; anything else is refused,
    named, and left alone: a device node, a directory, a FIFO, a symbolic link, a file
    that is not a DuckDB database, another application's database. A file another
    process has open is refused too (DuckDB's lock says which process).
    """
    mode = os.lstat(path).st_mode
    refusal = f"--overwrite replaces only a MallBots database file; {path} was left as it is"
    if stat.S_ISLNK(mode):
        raise UsageError(f"{path} is a symbolic link to {os.readlink(path)}; {refusal}")
    if not stat.S_ISREG(mode):
        raise UsageError(f"{path} is {file_kind(mode)}; {refusal}")
    if os.path.getsize(path):
        try:
            database = Database.open(path)  # read-write: refused while anyone has it open
        except duckdb.Error as error:  # not DuckDB's, or a permission, a newer format ...
            why = duckdb_explained(error, path)
            if "not a valid DuckDB database file" in why:
                why = f"{path} is not a DuckDB database file"
            raise UsageError(f"{why}; {refusal}") from None
        with database:
            try:
                require_shop(database)
            except EmptyDatabaseError:
                pass  # an empty database: nothing to lose
            except EventSourcingError:
                raise UsageError(f"{path} was not made by MallBots; {refusal}") from None
    for file in (Path(path), Path(f"{path}.wal")):
        file.unlink(missing_ok=True)


def whole_number(low: int, high: int, words: str) -> Callable[[str], int]:
    """An argument type: a whole number from ``low`` to ``high``, else a usage error."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {words}, not {text!r}")
        return value

    return parse


count_argument = whole_number(1, LARGEST_COUNT, f"a whole number from 1 to {LARGEST_COUNT:,}")
seed_argument = whole_number(0, LARGEST_SEED, f"a whole number from 0 to {LARGEST_SEED:,}")


# --- stats -----------------------------------------------------------------------------------


def add_stats(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "stats",
        help="stream lifetimes and event counts",
        description="How long each type of stream lives and grows, and how many events of "
        "each name the log holds.",
    )
    add_database_option(parser)
    parser.set_defaults(run=stats)


def stats(args: argparse.Namespace) -> int:
    with reading(args.db) as database:
        log = read_log(database)
        print(f"{shown(args.db)}: {log.count():,} events\n")
        print_frame("Stream lifetimes", lifetime_summary(log))
        print_frame("Events per type", events_per_type(log))
        say_if_behind(database)
    return 0


# --- rebuild ---------------------------------------------------------------------------------


def add_rebuild(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "rebuild",
        help="rebuild read models (or snapshots) from the log, timed",
        description="Empty read models and replay the whole log into them. With "
        "--snapshots, drop every snapshot and write fresh ones from the events instead "
        "(and rebuild only the read models named).",
    )
    add_database_option(parser)
    parser.add_argument(
        "projections",
        nargs="*",
        metavar="PROJECTION",
        help="e.g. stores.mall (default: all, unless --snapshots)",
    )
    parser.add_argument(
        "--snapshots",
        action="store_true",
        help="rewrite the snapshots from the events (mends a damaged snapshot table)",
    )
    parser.set_defaults(run=rebuild)


def rebuild(args: argparse.Namespace) -> int:
    with open_existing(args.db) as shop:
        if args.snapshots:
            started = time.perf_counter()
            written = shop.rebuild_snapshots()
            seconds = time.perf_counter() - started
            for table, count in written.items():
                print(f"{table}: {count:,} snapshots written")
            print(f"snapshots rebuilt from the events in {seconds:.2f} s")
        known = [projection.name for projection in shop.projector]
        default = [] if args.snapshots else known
        for name in args.projections or default:
            if name not in known:
                raise UsageError(f"no projection {name!r}; the shop has: {', '.join(known)}")
            started = time.perf_counter()
            applied = shop.projector.rebuild([name])
            seconds = time.perf_counter() - started
            print(f"{name}: {applied:,} events applied in {seconds:.2f} s")
    return 0


# --- events ----------------------------------------------------------------------------------


def add_events(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "events",
        help="show the log: the last events, or those of a stream or name",
        description="Show events in position order, filtered by stream and event name.",
    )
    add_database_option(parser)
    parser.add_argument("--stream", metavar="NAME", help="a stream name, e.g. baskets.Basket")
    parser.add_argument("--id", metavar="ID", help="a stream id")
    parser.add_argument("--name", metavar="EVENT", help="an event name, e.g. stores.ProductAdded")
    parser.add_argument(
        "--last", type=count_argument, default=20, metavar="N", help="show the last N (default: 20)"
    )
    parser.set_defaults(run=events)


def events(args: argparse.Namespace) -> int:
    with reading(args.db) as database:
        filters = {"stream_name": args.stream, "stream_id": args.id, "event_name": args.name}
        chosen = {column: value for column, value in filters.items() if value is not None}
        where = " AND ".join(f"{column} = ${i}" for i, column in enumerate(chosen, start=2))
        frame = database.execute(
            "SELECT * FROM (SELECT position, occurred_at, stream_name, stream_id, "
            f"stream_version AS version, event_name, event_data FROM ({read_log(database).sql()}) "
            f"WHERE {where or 'true'} ORDER BY position DESC LIMIT $1) ORDER BY position",
            [args.last, *chosen.values()],
        ).df()
        if frame.empty:
            print("no events match")
        else:
            print(frame.to_string(index=False, max_colwidth=60))
    return 0


# --- check -----------------------------------------------------------------------------------


def add_check(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "check",
        help="look for damage in the shop's tables",
        description="Scan every event table for version gaps, repeated positions or ids, "
        "and payloads that no longer fit their types; read every other table of the shop "
        "whole (snapshots, read models, plain tables), naming any DuckDB cannot read; and "
        "check the rules across modules (a checked-out basket has its order...). Exits 1 "
        "if anything is wrong.",
    )
    add_database_option(parser)
    parser.set_defaults(run=check)


def check(args: argparse.Namespace) -> int:
    """Without a shop, read-only: opening one catches its read models up, which writes
    and which damage can stop."""
    if is_server_url(args.db):
        print(
            f"{shown(args.db)}: its log as copied into a local mirror, and read models "
            "built from it (the server's other tables are not read)"
        )
    with reading(args.db) as database:
        found = check_shop(database)
        print(found)
        say_if_behind(database)
    return 0 if found.ok else 1


# --- copy ------------------------------------------------------------------------------------


def add_copy(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "copy",
        help="copy a shop between a DuckDB file and PostgreSQL",
        description="Copy the shop at SOURCE into TARGET, each a DuckDB file or a "
        "postgresql:// URL: how a shop moves from the embedded default to a server, and "
        "back. Copied as stored: every module's events (positions, ids, times and metadata "
        "kept), snapshots, continuations and the plain tables (customers, payments, "
        "invoices, depot, notifications). Read models are not copied: the target's are "
        "rebuilt from the log when a shop opens it. One transaction on the target: a "
        "target that already holds a shop's rows is refused and left as it was.",
    )
    parser.add_argument("source", metavar="SOURCE", help="a shop's DuckDB file or URL")
    parser.add_argument(
        "target", metavar="TARGET", help="a new DuckDB file, or an empty PostgreSQL database's URL"
    )
    parser.set_defaults(run=copy_command)


def copy_command(args: argparse.Namespace) -> int:
    for where in (args.source, args.target):
        if "://" in where and not is_server_url(where):
            raise UsageError(
                f"{where.partition('://')[0]}:// is not a database this command copies: give a "
                "DuckDB file path or a postgresql:// URL"
            )
    if not is_server_url(args.source):
        require_file(args.source)

    def say(table: str, rows: int) -> None:
        print(f"  {table}: {rows:,} rows", flush=True)

    print(f"Copying {shown(args.source)} into {shown(args.target)}:")
    try:
        copied = copy_shop(args.source, args.target, progress=say)
    except EmptyDatabaseError:
        raise UsageError(
            f"{shown(args.source)} holds no MallBots shop (it is empty); nothing was copied"
        ) from None
    rate = copied.total / copied.seconds if copied.seconds else 0
    print(
        f"Copied {copied.total:,} rows in {len(copied.rows)} tables in {copied.seconds:.1f} s "
        f"({rate:,.0f} rows/s). Read models are rebuilt from the log when a shop opens "
        f"{shown(args.target)}."
    )
    return 0


# --- shared ----------------------------------------------------------------------------------


def open_existing(path: str) -> MallBots:
    """The shop on a database file that must already exist and hold a shop, or on a
    PostgreSQL database (its read models in memory, caught up from its log)."""
    if is_server_url(path):
        return MallBots.open(path)
    require_file(path)
    database = Database.open(path)
    try:
        require_shop(database)  # before the shop adds its tables (and adopts an empty file)
        return MallBots(database)
    except EmptyDatabaseError:
        database.close()
        raise UsageError(f"{path} holds no MallBots shop (it is empty); nothing changed") from None
    except BaseException:
        database.close()
        raise


@contextmanager
def reading(path: str) -> Iterator[Database]:
    """A shop's database file opened read-only, for the commands that only read; on
    PostgreSQL, the local DuckDB mirror of the server's log (see :meth:`MallBots.open`)."""
    if is_server_url(path):
        with MallBots.open(path) as shop:
            yield shop.database
        return
    require_file(path)
    try:
        database = open_for_reading(path)
    except EmptyDatabaseError:
        raise UsageError(f"{path} holds no MallBots shop (it is empty); nothing changed") from None
    with database:
        yield database


def require_file(path: str) -> None:
    """A usage error unless ``path`` exists and is not empty (a file to read a shop from)."""
    if not os.path.lexists(path):
        raise UsageError(f"no database file {path} (make one with: mallbots simulate --db {path})")
    if os.path.isfile(path) and os.path.getsize(path) == 0:
        raise UsageError(f"{path} holds no MallBots shop (it is empty); nothing changed")


def say_if_behind(database: Database) -> None:
    """Tell (on stderr) when read models are behind the log: a reader cannot catch them up."""
    note = behind_note(database)
    if note is not None:
        print(note, file=sys.stderr)


def print_frame(title: str, frame: pd.DataFrame) -> None:
    print(f"{title}:")
    print(frame.to_string(index=False))
    print()


def add_database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        default=DEFAULT_DATABASE,
        metavar="PATH",
        help=f"the DuckDB database file (default: {DEFAULT_DATABASE} in the current "
        "directory), or a PostgreSQL database: postgresql://user@host:port/name",
    )


def print_table(shop: MallBots, table: str) -> None:
    print(f"{table}:")
    print(shop.read_model(table).to_string(index=False))
    print()


COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    add_demo,
    add_simulate,
    add_stats,
    add_rebuild,
    add_events,
    add_check,
    add_copy,
]


def parser() -> Parser:
    root = Parser(
        prog=PROGRAM,
        description="MallBots: event sourcing and CQRS on DuckDB, from the book "
        "'Event-Driven Architecture in Golang'.",
    )
    subcommands = root.add_subparsers(
        title="commands", dest="command", metavar="COMMAND", parser_class=Parser
    )
    subcommands.required = True
    for add in COMMANDS:
        add(subcommands)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = None
    quiet = QuietCtrlC()
    previous, sys.unraisablehook = sys.unraisablehook, quiet
    try:
        args = parser().parse_args(argv)
        status = args.run(args)
        if quiet.swallowed is not None:  # Ctrl-C came while an object was being freed
            raise quiet.swallowed
        return status
    except BaseException as error:
        return report(error, getattr(args, "db", None))
    finally:
        sys.unraisablehook = previous


class QuietCtrlC:
    """An unraisable-exception hook that keeps a Ctrl-C instead of printing its traceback.

    A KeyboardInterrupt that lands in a destructor (``__del__``, a weakref callback)
    cannot stop the command: Python prints it as "Exception ignored in ..." and goes
    on. Kept here, it is reported once the command ends, as any Ctrl-C is.
    """

    def __init__(self) -> None:
        self.swallowed: KeyboardInterrupt | None = None
        self._previous = sys.unraisablehook

    def __call__(self, unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            self.swallowed = unraisable.exc_value
        else:
            self._previous(unraisable)


def report(error: BaseException, path: str | None) -> int:
    """Tell the user what stopped a command, in one line; returns the exit status.

    Ctrl-C (Python's KeyboardInterrupt, or DuckDB's "Query interrupted" when it lands
    mid-query, perhaps wrapped by a handler) exits 130: every change is a transaction,
    so the file holds only whole commits. Anything unforeseen is raised again.
    """
    if path is not None:
        path = shown(path)
    if interrupted(error):
        where = f": {path} holds only what was committed before" if path else ""
        return fail(f"interrupted{where} (nothing half-written)", 130)
    if isinstance(error, UsageError):
        return fail(str(error), 2)
    if isinstance(error, BrokenPipeError):  # the reader went away (``mallbots events | head``)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (Python flushes it at exit)
        return 0
    if isinstance(error, duckdb.Error):
        return fail(duckdb_explained(error, path), 1)
    if isinstance(error, DomainError | EventSourcingError | HandlerError | OSError):
        return fail(without_sql(str(error)), 1)  # a handler's error may quote DuckDB's
    raise error


def interrupted(error: BaseException | None) -> bool:
    """Whether Ctrl-C caused ``error`` (directly, or as its cause or context)."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, KeyboardInterrupt | duckdb.InterruptException):
            return True
        if isinstance(error, RuntimeError) and str(error) == "Query interrupted":
            return True
        error = error.__cause__ or error.__context__
    return False


def fail(message: str, status: int) -> int:
    print(f"{PROGRAM}: error: {' '.join(message.split())}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
