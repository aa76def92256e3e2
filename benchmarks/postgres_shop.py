"""A shop on PostgreSQL beside one on a DuckDB file: command latency and catch-up rate.

    python benchmarks/postgres_shop.py                        # a throwaway local cluster
    python benchmarks/postgres_shop.py --url postgresql://...  # a server of your own
    python benchmarks/postgres_shop.py --events 200000 --commands 200

Commands: the same small mall on each side; each kind of command runs ``--commands``
times, the sides taking turns command by command (so a burst of noise on a shared
machine hits both); the median milliseconds per command and the ratio PostgreSQL /
DuckDB. On PostgreSQL a command is one server transaction, then the catch-up that
brings its events and changed rows (snapshots, plain tables) into the local mirror and
the read models (read-your-writes). Registering a customer writes one plain row and no
event; a catch-up when nothing moved is one query to the server and one to DuckDB.

Catch-up: a mall of ``--events`` events is simulated into a DuckDB file, its log copied
to the server, then (1) the mirror pulls the whole log (binary fetches, 50,000 positions each)
into an empty DuckDB, and (2) a shop opened on the server pulls it and projects every
read model from it: events per second, the median of ``--rounds``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.postgres_server import server_url
from benchmarks.timing import clock, milliseconds, per_second, timed
from mallbots import MallBots
from mallbots.baskets import AddItem, StartBasket
from mallbots.customers import RegisterCustomer
from mallbots.es import Database
from mallbots.es.postgres import PostgresDatabase
from mallbots.es.postgres.mirror import LogMirror
from mallbots.es.postgres.transfer import copy_log_to_postgres
from mallbots.simulator import PRESETS, simulate
from tests.shop_support import build_world


class Commands:
    """The kinds of command timed on one shop."""

    def __init__(self, shop: MallBots) -> None:
        self.shop = shop
        self.world = build_world(shop)
        self.price = Decimal("9.99")
        self.basket = shop.execute(StartBasket(self.world.customer))

    def kinds(self) -> dict[str, Callable[[], object]]:
        from mallbots.stores import IncreaseProductPrice

        def reprice() -> object:
            self.price += Decimal("0.01")
            return self.shop.execute(IncreaseProductPrice(self.world.widget, self.price))

        return {
            "change a product's price": reprice,
            "add an item to a basket": lambda: self.shop.execute(
                AddItem(self.basket, self.world.gadget, 1)
            ),
            "start a basket": lambda: self.shop.execute(StartBasket(self.world.customer)),
            "register a customer": lambda: self.shop.execute(RegisterCustomer("Ada", "555")),
            "catch up, nothing moved": self.shop.catch_up,
        }


def command_latency(url: str, commands: int, folder: Path) -> None:
    with (
        MallBots.open(folder / "bench.duckdb", seed=1) as embedded,
        MallBots.open(url, seed=1) as served,
    ):
        sides = {"DuckDB file": Commands(embedded), "PostgreSQL": Commands(served)}
        kinds = {name: side.kinds() for name, side in sides.items()}
        print(f"{'command':28} {'DuckDB ms':>10} {'PostgreSQL ms':>14} {'ratio':>6}")
        for kind in kinds["DuckDB file"]:
            times: dict[str, list[float]] = {name: [] for name in sides}
            for _ in range(commands):
                for name in sides:
                    times[name].append(milliseconds(timed(kinds[name][kind])))
            duck, pg = (statistics.median(times[name]) for name in sides)
            print(f"{kind:28} {duck:10.2f} {pg:14.2f} {pg / duck:6.2f}")


def catch_up_rate(url: str, events: int, rounds: int, folder: Path) -> None:
    config = PRESETS["medium"].with_changes(seed=7, max_events=events)
    shop, _ = simulate(config, folder / "mall.duckdb", progress=False)
    with shop, PostgresDatabase.open(url) as server:
        copied = copy_log_to_postgres(shop.database, server)
    print(f"\n{copied:,} events simulated and copied to the server")
    pulls, opens = [], []
    for _ in range(rounds):
        with Database.memory() as mirror, PostgresDatabase.open(url) as server:
            puller = LogMirror(server, mirror)
            pulls.append(per_second(copied, timed(puller.pull)))
        started = clock()
        with MallBots.open(url):
            opens.append(per_second(copied, clock() - started))
    print(f"mirror pull (binary fetch):        {statistics.median(pulls):10,.0f} events/s")
    print(f"open: pull + project every model:  {statistics.median(opens):10,.0f} events/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a PostgreSQL database (default: a throwaway cluster)")
    parser.add_argument("--commands", type=int, default=100)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, server_url(args.url) as url:
        command_latency(url, args.commands, Path(folder))
    with tempfile.TemporaryDirectory() as folder, server_url(args.url) as url:
        catch_up_rate(url, args.events, args.rounds, Path(folder))


if __name__ == "__main__":
    main()
