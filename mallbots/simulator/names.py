"""Words for names: stores, products and customers that read like a mall's."""

from __future__ import annotations

import random

STORE_WORDS = (
    ("Waldorf", "Copper", "Lucky", "Northern", "Bright", "Quiet", "Golden", "Tiny", "Odd"),
    ("Widgets", "Kettles", "Gadgets", "Threads", "Books", "Bakery", "Toys", "Lamps", "Tools"),
)
WINGS = ("north wing", "south wing", "east wing", "west wing", "food court", "atrium")
PRODUCT_WORDS = (
    ("Deluxe", "Pocket", "Classic", "Smart", "Folding", "Vintage", "Mini", "Sturdy"),
    ("Sprocket", "Teapot", "Lantern", "Notebook", "Scarf", "Robot", "Clock", "Mug", "Kite"),
)
FIRST_NAMES = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Margaret", "Linus", "Radia")
LAST_NAMES = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Hamilton")


def store_name(rng: random.Random) -> str:
    return f"{rng.choice(STORE_WORDS[0])} {rng.choice(STORE_WORDS[1])}"


def location(rng: random.Random) -> str:
    return f"Level {rng.randint(1, 3)}, {rng.choice(WINGS)}, unit {rng.randint(1, 60)}"


def product_name(rng: random.Random) -> str:
    return f"{rng.choice(PRODUCT_WORDS[0])} {rng.choice(PRODUCT_WORDS[1])}"


def customer_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def sku(rng: random.Random, name: str) -> str:
    return f"{name[:3].upper()}-{rng.randint(100, 999)}"
