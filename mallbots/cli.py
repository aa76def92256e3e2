"""The ``mallbots`` command line.

Each command is a subcommand with its own parser and a ``run`` function; to add one,
write ``add_<name>(subcommands)`` and list it in :data:`COMMANDS`. Bad arguments and
refused commands end with one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

import duckdb

from mallbots.app import DEFAULT_DATABASE, MallBots
from mallbots.demo import run_demo
from mallbots.errors import DomainError
from mallbots.es import EventSourcingError

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


# --- shared ----------------------------------------------------------------------------------


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


COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [add_demo]


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
    except (DomainError, EventSourcingError, duckdb.Error, OSError) as error:
        return fail(str(error), 1)
    except KeyboardInterrupt:
        return fail("interrupted", 130)


def fail(message: str, status: int) -> int:
    print(f"{PROGRAM}: error: {' '.join(message.split())}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
