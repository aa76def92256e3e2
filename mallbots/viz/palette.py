"""One colour per event type, the same in every plot of every notebook.

Each aggregate has a hue family (stores green, products blue, baskets orange, orders
magenta) and each of its event types a shade of it, so a plot reads by module at a
glance and by type on a closer look. Legends list types by module, in the order a
stream lives them (created first). A stacked plot shows at most :data:`MAX_SERIES`
series: the rarest types of a module are summed into one "baskets (other)" series in
the module's grey-tinted shade.

The colours were picked in CIELAB so that no two of them are closer than
:data:`MIN_DISTANCE` (CIE76 ΔE, where about 2 is the smallest difference an eye sees
side by side); ``tests/test_viz.py`` checks it.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Mapping, Sequence

MODULES = ("stores", "baskets", "ordering")
"""The event-sourced modules, in the book's order: legends follow it."""

EVENT_COLOURS: dict[str, str] = {
    # stores.Store: greens
    "stores.StoreCreated": "#20713f",
    "stores.StoreParticipationEnabled": "#77af51",
    "stores.StoreParticipationDisabled": "#c6d290",
    "stores.StoreRebranded": "#0f9488",
    # stores.Product: blues
    "stores.ProductAdded": "#0053a2",
    "stores.ProductRebranded": "#0081c1",
    "stores.ProductPriceIncreased": "#00adda",
    "stores.ProductPriceDecreased": "#69d6e8",
    "stores.ProductRemoved": "#0d375a",
    "stores.ProductBooksClosed": "#877db1",
    "stores.ProductBooksOpened": "#b1b5e9",
    # baskets.Basket: oranges and browns
    "baskets.BasketStarted": "#e8c172",
    "baskets.BasketItemAdded": "#e4903f",
    "baskets.BasketItemRemoved": "#c66239",
    "baskets.BasketCheckedOut": "#953e2e",
    "baskets.BasketCanceled": "#fec6a1",
    # ordering.Order: magentas
    "ordering.OrderCreated": "#97256d",
    "ordering.OrderReadied": "#d84f83",
    "ordering.OrderCompleted": "#d38fce",
    "ordering.OrderCanceled": "#f8bcd1",
}
"""Every event type of the shop's log, by module and in the order a stream lives them."""

GROUP_COLOURS: dict[str, str] = {
    "stores": "#85999f",
    "baskets": "#ae9b86",
    "ordering": "#8a707f",
}
"""The colour of a module's "(other)" series: its family's hue, greyed."""

FALLBACK_COLOURS = ("#474747", "#777777", "#765f50", "#c1c1c1")
"""Greys for event types outside the shop's catalog (a notebook's own aggregate)."""

MIN_DISTANCE = 12.0
"""The least CIE76 distance between any two colours above."""

MAX_SERIES = 8
"""The most series a stacked plot shows; beyond, a module's rarest types are grouped."""


def module_of(name: str) -> str:
    """``stores`` for ``stores.ProductAdded``; an event name without a dot has none."""
    return name.partition(".")[0] if "." in name else ""


def legend_rank(name: str) -> tuple:
    """Where ``name`` goes in a legend: by module (the shop's first), then by the
    catalog's order; a group ("baskets (other)") after its module's types."""
    if name.endswith(" (other)"):
        module = name.removesuffix(" (other)")
        return (_module_rank(module), module, 1, 0, name)
    position = list(EVENT_COLOURS).index(name) if name in EVENT_COLOURS else len(EVENT_COLOURS)
    return (_module_rank(module_of(name)), module_of(name), 0, position, name)


def _module_rank(module: str) -> int:
    return MODULES.index(module) if module in MODULES else len(MODULES)


def in_legend_order(names: Iterable[str]) -> list[str]:
    """``names`` (event types or groups), without repeats, ordered by module."""
    return sorted(set(names), key=legend_rank)


def colour_of(name: str) -> str:
    """The colour of an event type, or of a module's "(other)" group, as hex.

    A type outside the catalog gets a grey chosen by its name alone, so it too keeps
    its colour from plot to plot (two such types may share one: see :func:`colours_for`).
    """
    if name in EVENT_COLOURS:
        return EVENT_COLOURS[name]
    if name.endswith(" (other)"):
        return GROUP_COLOURS.get(name.removesuffix(" (other)"), FALLBACK_COLOURS[-1])
    return FALLBACK_COLOURS[zlib.crc32(name.encode()) % len(FALLBACK_COLOURS)]


def colours_for(names: Iterable[str]) -> dict[str, str]:
    """A colour per name, in legend order: :func:`colour_of`, except that types outside
    the catalog that would share a grey in this plot take the next free one."""
    colours: dict[str, str] = {}
    taken: set[str] = set()
    for name in in_legend_order(names):
        colour = colour_of(name)
        if name not in EVENT_COLOURS and not name.endswith(" (other)") and colour in taken:
            free = [c for c in FALLBACK_COLOURS if c not in taken]
            colour = free[0] if free else colour
        colours[name] = colour
        taken.add(colour)
    return colours


def series_groups(totals: Mapping[str, int], max_series: int = MAX_SERIES) -> dict[str, str]:
    """The series each event type is drawn in: itself, or ``"<module> (other)"``.

    With more types than ``max_series``, the most frequent types keep a series of their
    own and the rest are summed per module, as many kept as leaves ``max_series`` in all
    (a group of one type is that type again).
    """
    names = list(totals)
    if len(names) <= max_series:
        return {name: name for name in names}
    by_count = sorted(names, key=lambda name: (-totals[name], legend_rank(name)))
    for kept in range(max_series, -1, -1):
        keep = set(by_count[:kept])
        rest_modules = {module_of(name) for name in names if name not in keep}
        if kept + len(rest_modules) <= max_series:
            break
    groups = {}
    for name in names:
        if name in keep:
            groups[name] = name
        else:
            alone = [n for n in names if n not in keep and module_of(n) == module_of(name)]
            groups[name] = name if len(alone) == 1 else f"{module_of(name) or 'other'} (other)"
    return groups


def short_label(name: str) -> str:
    """A legend label: ``ProductAdded`` for ``stores.ProductAdded``; groups as they are."""
    return name if name.endswith(" (other)") else name.rpartition(".")[2]


def lab_of(colour: str) -> tuple[float, float, float]:
    """CIELAB (D65) of a hex sRGB colour, to measure how far apart two colours look."""
    rgb = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    x = (0.4124 * linear[0] + 0.3576 * linear[1] + 0.1805 * linear[2]) / 0.95047
    y = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    z = (0.0193 * linear[0] + 0.1192 * linear[1] + 0.9505 * linear[2]) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return (116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z)))


def distance(first: str, second: str) -> float:
    """CIE76 ΔE between two hex colours."""
    return math.dist(lab_of(first), lab_of(second))


def every_colour() -> Sequence[str]:
    """The palette: event types, groups and greys."""
    return [*EVENT_COLOURS.values(), *GROUP_COLOURS.values(), *FALLBACK_COLOURS]
