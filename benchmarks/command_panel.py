"""A click of the command panel against the same command run bare: milliseconds per command.

    python benchmarks/command_panel.py                      # the medium mall, 7 rounds
    python benchmarks/command_panel.py --preset small --rounds 3 --commands 5
    python benchmarks/command_panel.py --copy-of mall.duckdb  # a mall simulated before

A click (``CommandPanel.run``: build the command from the fields, run it, find what it
changed, draw the panes, refresh the id suggestions) must cost little more than
``shop.execute`` of the same command. Each round runs every kind of command bare and by
click, in turns (the side that goes first alternates), on one shop on a DuckDB file;
what a command needs first (a filled basket, an authorised payment) is made untimed.
The table gives each side's median, the difference, the ratio and each side's spread
(interquartile range / median).
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.shop_commands import ShopCommands, mall_arguments, mall_shop
from benchmarks.timing import milliseconds, timed
from mallbots import MallBots
from mallbots.baskets import AddItem, CheckoutBasket
from mallbots.stores import IncreaseProductPrice
from mallbots.viz import CommandPanel

Prepare = Callable[[int], Any]
"""Makes the i-th command of a kind (anything it needs first is done here, untimed)."""


def kinds(commands: ShopCommands) -> dict[str, Prepare]:
    """The commands timed: a price change, an item added, a checkout."""

    def reprice(i: int) -> IncreaseProductPrice:
        product = commands.product(i)
        commands.prices[product] += Decimal("0.01")
        return IncreaseProductPrice(product, str(commands.prices[product]))

    def add_item(i: int) -> AddItem:
        return AddItem(commands.baskets[i % len(commands.baskets)], commands.product(i), 1)

    def checkout(i: int) -> CheckoutBasket:
        return CheckoutBasket(*commands.filled_basket(i))

    return {"change a product's price": reprice, "add an item": add_item, "check out": checkout}


def click(panel: CommandPanel, message: Any) -> float:
    """Seconds for one press of *run*, the panel's fields filled with ``message``."""
    panel.command.value = type(message)
    for name, control in panel.inputs.items():
        control.value = getattr(message, name)
    seconds = timed(panel.run)
    if panel.error is not None:
        raise RuntimeError(f"the panel refused {message}: {panel.error}")
    return seconds


def rounds(shop: MallBots, count: int, per_round: int) -> dict[str, dict[str, list[float]]]:
    """Milliseconds per command, bare and by click, ``count`` rounds of each kind."""
    commands = ShopCommands(shop)
    panel = CommandPanel(shop)
    made = kinds(commands)
    figures = {name: {"bare": [], "click": []} for name in made}
    done = 0
    for round_ in range(count + 1):  # round 0 warms up and is not counted
        for name, prepare in made.items():
            sides = ["bare", "click"] if round_ % 2 else ["click", "bare"]
            for side in sides:
                total = 0.0
                for _ in range(per_round):
                    message = prepare(done)
                    done += 1
                    if side == "bare":
                        total += timed(lambda message=message: shop.execute(message))
                    else:
                        total += click(panel, message)
                if round_:
                    figures[name][side].append(milliseconds(total / per_round))
    return figures


def spread(values: list[float]) -> float:
    """Interquartile range over median: how noisy the rounds were."""
    if len(values) < 2:
        return 0.0
    quartiles = statistics.quantiles(values, n=4)
    return (quartiles[2] - quartiles[0]) / statistics.median(values)


def report(figures: dict[str, dict[str, list[float]]]) -> list[tuple[str, float, float]]:
    """Print each kind's medians, difference and ratio; return (kind, bare, click)."""
    print(
        f"{'command':<26} {'bare ms':>9} {'click ms':>9} {'difference':>11} {'ratio':>6} "
        f"{'spread':>11}"
    )
    rows = []
    for name, sides in figures.items():
        bare, clicked = statistics.median(sides["bare"]), statistics.median(sides["click"])
        print(
            f"{name:<26} {bare:>9.2f} {clicked:>9.2f} {clicked - bare:>+11.2f} "
            f"{clicked / bare:>5.2f}x {spread(sides['bare']):>5.0%}/{spread(sides['click']):<5.0%}"
        )
        rows.append((name, bare, clicked))
    return rows


def main(argv: list[str] | None = None) -> list[tuple[str, float, float]]:
    args = mall_arguments(__doc__.splitlines()[0], 10, argv)
    with mall_shop(args) as shop:
        figures = rounds(shop, args.rounds, args.commands)
    return report(figures)


if __name__ == "__main__":
    main()
