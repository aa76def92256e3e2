"""What a second shop process runs in the PostgreSQL shop tests (started with spawn)."""

from __future__ import annotations

from mallbots.app import MallBots
from mallbots.es import ConcurrencyError
from mallbots.stores import IncreaseProductPrice


def raise_price_twice_if_need_be(
    url: str, read_models: str, product: str, ready, go, finish, results
) -> None:
    """Open a shop of its own on the mall, then raise a product's price once told to:
    report a conflict if the first try meets one, and the retry's outcome."""
    with MallBots.open(url, seed=2, read_models=read_models) as shop:
        ready.set()
        go.wait(60)
        for attempt in (1, 2):
            try:
                shop.execute(IncreaseProductPrice(product, "30.00"))
                results.put(("saved", attempt))
                break
            except ConcurrencyError as error:
                results.put(("conflict", attempt, error.expected, error.actual))
        finish.wait(60)  # until the first shop is done: catch up to everything, then stop
        shop.catch_up()
    results.put(("closed",))
