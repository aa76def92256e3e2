"""The ``mallbots`` command line.

Each command is a subcommand with its own parser and a ``run`` function; to add one,
write ``add_<name>(subcommands)`` and list it in :data:`COMMANDS`. Bad arguments and
refused commands end with one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

import duckdb
import pandas as pd

from mallbots.app import DEFAULT_DATABASE, SCHEMAS, MallBots
from mallbots.demo import run_demo
from mallbots.errors import DomainError
from mallbots.es import Database, EventSourcingError, HandlerError
from mallbots.es.database import MEMORY
from mallbots.es.lifetimes import events_per_type, lifetime_summary
from mallbots.shop_check import check_shop
from mallbots.simulator import PRESETS, simulate
from mallbots.simulator.export import export_log

PROGRAM = "mallbots"


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
        type=int,
        help="seed ids and times, so the same file state gives the same output",
    )
    parser.set_defaults(run=demo)


def demo(args: argparse.Namespace) -> int:
    with MallBots.open(args.db, seed=args.seed) as shop:
        ids = run_demo(shop)
        print(f"MallBots demo on {args.db}: order {ids.order} placed, readied and paid.\n")
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
    parser.add_argument("--seed", type=int, default=42, help="the seed (default: 42)")
    parser.add_argument(
        "--events", type=positive, metavar="N", help="stop once the log holds N events"
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
    if args.db != MEMORY and Path(args.db).exists():
        if not args.overwrite:
            raise UsageError(f"{args.db} exists; pass --overwrite to replace it")
        delete_unless_open(args.db)
    progress = False if args.no_progress else None
    shop, result = simulate(config, args.db, bulk=not args.per_command, progress=progress)
    with shop:
        if args.parquet:
            export_log(shop, args.parquet)
    where = "memory" if args.db == MEMORY else args.db
    print(
        f"Simulated {result.days} day(s) of the {args.preset!r} mall (seed {args.seed}) into "
        f"{where}: {result.events:,} events in {result.seconds:.1f} s "
        f"({result.events_per_second:,.0f} events/s)."
    )
    return 0


def delete_unless_open(path: str) -> None:
    """Delete a database file and its write-ahead log, unless a process has it open.

    DuckDB refuses to open a file another process holds, with a message saying which
    process; that refusal is the answer here too. A file DuckDB cannot read at all (not
    a database) is nobody's database, so it goes.
    """
    with contextlib.suppress(duckdb.Error):  # a DatabaseLockedError is not one: it goes up
        Database.open(path).close()
    for file in (Path(path), Path(f"{path}.wal")):
        file.unlink(missing_ok=True)


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {text!r}")
    return value


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
    with open_existing(args.db) as shop:
        print(f"{args.db}: {shop.log.count():,} events\n")
        print_frame("Stream lifetimes", lifetime_summary(shop.log))
        print_frame("Events per type", events_per_type(shop.log))
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
        "--last", type=positive, default=20, metavar="N", help="show the last N (default: 20)"
    )
    parser.set_defaults(run=events)


def events(args: argparse.Namespace) -> int:
    with open_existing(args.db) as shop:
        filters = {"stream_name": args.stream, "stream_id": args.id, "event_name": args.name}
        chosen = {column: value for column, value in filters.items() if value is not None}
        where = " AND ".join(f"{column} = ${i}" for i, column in enumerate(chosen, start=2))
        frame = shop.database.execute(
            "SELECT * FROM (SELECT position, occurred_at, stream_name, stream_id, "
            f"stream_version AS version, event_name, event_data FROM ({shop.log.sql()}) "
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
    """Without a shop: opening one catches its read models up, which damage can stop."""
    with open_shop_file(args.db) as database:
        report = check_shop(database)
        print(report)
    return 0 if report.ok else 1


# --- shared ----------------------------------------------------------------------------------


def open_existing(path: str) -> MallBots:
    """The shop on a database file that must already exist and hold a shop."""
    database = open_shop_file(path)
    try:
        return MallBots(database)
    except BaseException:
        database.close()
        raise


def open_shop_file(path: str) -> Database:
    """The database in a file that must already exist and hold a shop's event tables.

    A shop opened on any other DuckDB file would add its tables to it.
    """
    if not Path(path).is_file():
        raise UsageError(f"no database file {path} (make one with: mallbots simulate --db {path})")
    database = Database.open(path)
    if not event_tables(database):
        database.close()
        raise UsageError(f"{path} holds no MallBots shop (no event tables); nothing changed")
    return database


def event_tables(database: Database) -> list[str]:
    """The shop's event tables (and archives) that the database holds, module by module."""
    rows = database.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_name IN ('events', 'events_archive') AND table_schema IN (SELECT unnest($1)) "
        "ORDER BY list_position($1, table_schema), table_name",
        [list(SCHEMAS)],
    ).fetchall()
    return [f"{schema}.{name}" for schema, name in rows]


def print_frame(title: str, frame: pd.DataFrame) -> None:
    print(f"{title}:")
    print(frame.to_string(index=False))
    print()


def add_database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        default=DEFAULT_DATABASE,
        metavar="PATH",
        help=f"the DuckDB database file (default: {DEFAULT_DATABASE} in the current directory)",
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
    try:
        args = parser().parse_args(argv)
        return args.run(args)
    except UsageError as error:
        return fail(str(error), 2)
    except BrokenPipeError:  # the reader went away (``mallbots events | head``)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (Python flushes it at exit)
        return 0
    except (DomainError, EventSourcingError, HandlerError, duckdb.Error, OSError) as error:
        return fail(str(error), 1)
    except KeyboardInterrupt:
        return fail("interrupted", 130)


def fail(message: str, status: int) -> int:
    print(f"{PROGRAM}: error: {' '.join(message.split())}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
