"""Measure the shop's own commands on a simulated mall: milliseconds per command.

    python benchmarks/shop_commands.py                   # the medium mall, 7 rounds
    python benchmarks/shop_commands.py --preset small --rounds 5 --commands 50
    python benchmarks/shop_commands.py --copy-of mall.duckdb   # a mall simulated before

``run.py`` compares the libraries on a bank account, so that both sides do the same
work. This script times what a user of the shop runs instead: ``shop.execute`` on a
database file, through the book's middleware, with a snapshot every 3 events and the
inline read models. The mall is simulated into a temporary file first (``medium``:
about 100,000 events, so the tables and their indexes are not toy-sized), then each
kind of command runs ``--commands`` times a round, the kinds in turns, round after
round. A checkout's basket is filled and its payment authorised outside the timing, and
so is the checkout of an order then cancelled. ``--copy-of`` times a copy of a mall
file made before (``mallbots simulate --preset million``, say) instead of simulating.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.timing import milliseconds, timed
from mallbots import MallBots
from mallbots.adapters import order_id_for_basket
from mallbots.baskets import AddItem, CheckoutBasket, StartBasket
from mallbots.customers import RegisterCustomer
from mallbots.ordering import CancelOrder
from mallbots.payments import AuthorizePayment
from mallbots.simulator import PRESETS, simulate
from mallbots.stores import IncreaseProductPrice

Command = Callable[[int], object]
"""Runs the i-th command of a kind (timed); anything it needs first is set up untimed."""


class ShopCommands:
    """The kinds of command timed, each taking its turn on one shop."""

    def __init__(self, shop: MallBots, baskets: int = 100) -> None:
        self.shop = shop
        rows = shop.database.execute(
            "SELECT p.id, p.price FROM stores.products p JOIN stores.stores s "
            "ON s.id = p.store_id WHERE s.participating ORDER BY p.id"
        ).fetchall()
        if not rows:
            raise ValueError("the simulated mall has no product on sale")
        self.products = [product_id for product_id, _ in rows]
        self.prices = {product_id: Decimal(price) for product_id, price in rows}
        self.customer = shop.execute(RegisterCustomer("Bench Marker", "555-0199"))
        self.baskets = [shop.execute(StartBasket(self.customer)) for _ in range(baskets)]

    def kinds(self) -> dict[str, Command]:
        return {
            "change a product's price": self.reprice,
            "add an item to a basket": self.add_item,
            "start a basket": self.start_basket,
            "check out a basket": self.checkout,
            "cancel an order": self.cancel_order,
        }

    def product(self, i: int) -> str:
        return self.products[i * 7 % len(self.products)]

    def reprice(self, i: int) -> float:
        product = self.product(i)
        self.prices[product] += Decimal("0.01")
        return timed(lambda: self.shop.execute(IncreaseProductPrice(product, self.prices[product])))

    def add_item(self, i: int) -> float:
        basket = self.baskets[i % len(self.baskets)]
        return timed(lambda: self.shop.execute(AddItem(basket, self.product(i), 1)))

    def start_basket(self, i: int) -> float:
        return timed(lambda: self.shop.execute(StartBasket(self.customer)))

    def checkout(self, i: int) -> float:
        basket, payment = self.filled_basket(i)
        return timed(lambda: self.shop.execute(CheckoutBasket(basket, payment)))

    def cancel_order(self, i: int) -> float:
        basket, payment = self.filled_basket(i)
        self.shop.execute(CheckoutBasket(basket, payment))
        order = order_id_for_basket(basket)
        return timed(lambda: self.shop.execute(CancelOrder(order)))

    def filled_basket(self, i: int) -> tuple[str, str]:
        """A new basket holding two of a product, and a payment authorised for it."""
        run = self.shop.execute
        basket = run(StartBasket(self.customer))
        product = self.product(i)
        run(AddItem(basket, product, 2))
        return basket, run(AuthorizePayment(self.customer, self.prices[product] * 2))


def rounds(commands: ShopCommands, per_round: int, count: int) -> Iterator[dict[str, float]]:
    """Milliseconds per command of each kind, one dict per round, the kinds in turns."""
    done = 0
    for _ in range(count):
        figures = {}
        for name, command in commands.kinds().items():
            seconds = sum(command(done + i) for i in range(per_round))
            figures[name] = milliseconds(seconds / per_round)
        done += per_round
        yield figures


def mall_arguments(description: str, commands: int, argv: list[str] | None) -> argparse.Namespace:
    """The options both shop benchmarks take: which mall, how many rounds and commands."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--preset", choices=list(PRESETS), default="medium")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--commands", type=int, default=commands, help="of each kind, a round")
    parser.add_argument("--copy-of", metavar="FILE", type=Path, help="a mall file to copy")
    args = parser.parse_args(argv)
    if args.copy_of is not None and not args.copy_of.is_file():
        parser.error(f"no mall file at {args.copy_of}")
    return args


@contextmanager
def mall_shop(args: argparse.Namespace) -> Iterator[MallBots]:
    """A shop on the simulated mall (or a copy of ``--copy-of``) in a temporary folder."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mall.duckdb"
        if args.copy_of is not None:
            shutil.copyfile(args.copy_of, path)
            mall = f"a copy of {args.copy_of}"
        else:
            simulate(PRESETS[args.preset], path, progress=False)[0].close()
            mall = f"the {args.preset} mall"
        with MallBots.open(path, seed=7) as shop:
            print(f"{mall}: {shop.log.head():,} events in a DuckDB file")
            yield shop


def main(argv: list[str] | None = None) -> dict[str, list[float]]:
    args = mall_arguments(__doc__.splitlines()[0], 100, argv)
    with mall_shop(args) as shop:
        commands = ShopCommands(shop)
        list(rounds(commands, max(args.commands // 10, 1), 1))  # warm-up, not counted
        figures: dict[str, list[float]] = {name: [] for name in commands.kinds()}
        for result in rounds(commands, args.commands, args.rounds):
            for name, ms in result.items():
                figures[name].append(ms)
    print(f"{'command':<28} {'ms (median)':>12} {'commands/s':>11} {'spread':>7}")
    for name, values in figures.items():
        median = statistics.median(values)
        quartiles = statistics.quantiles(values, n=4) if len(values) > 1 else [median] * 3
        spread = (quartiles[2] - quartiles[0]) / median
        print(f"{name:<28} {median:>12.2f} {1000 / median:>11,.0f} {spread:>7.0%}")
    return figures


if __name__ == "__main__":
    main()
