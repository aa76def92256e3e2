"""Property: on any shop's log, inline = catch-up = rebuild = set-based rebuild, exactly."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mallbots import MallBots
from mallbots.es import Projector
from tests.profiles import examples
from tests.shop_scripts import GRAND_TOUR, run_script, scripts

PRICES_THEN_BOOKS_CLOSED = [
    ("increase", 0, 50),
    ("decrease", 0, 3),
    ("close_books", 0, 1),
    ("increase", 0, 60),
    ("close_books", 0, 1),
    ("decrease", 0, 40),
]
"""A product priced again and again, its books closed twice, still in the catalog at the end
(``GRAND_TOUR`` removes it before the read models are compared)."""


def read_models(shop: MallBots, projector: Projector) -> dict[str, list[tuple]]:
    """Every table of the projector's read models, keyed without their schema."""
    return {
        table.partition(".")[2]: shop.database.execute(
            f"SELECT * FROM {table} ORDER BY ALL"
        ).fetchall()
        for projection in projector
        for table in projection.tables
    }


@settings(
    max_examples=examples(dev=8, ci=60),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(script=scripts, batch=st.integers(2, 9))
@example(script=GRAND_TOUR, batch=3)
@example(script=PRICES_THEN_BOOKS_CLOSED, batch=4)
def test_inline_equals_catch_up_equals_rebuild_equals_set_based_rebuild(script, batch):
    with MallBots.in_memory(seed=3) as shop:
        run_script(shop, script)
        live = read_models(shop, shop.projector)
        if script is GRAND_TOUR:  # it reaches every read model's every branch
            assert shop.database.execute("SELECT count(*) FROM stores.events_archive").fetchone()[0]
            assert {row[3] for row in live["customer_history"]} >= {"completed", "cancelled"}
        if script is PRICES_THEN_BOOKS_CLOSED:
            opened = shop.database.execute(
                "SELECT count(*) FROM stores.events WHERE event_name = 'stores.ProductBooksOpened'"
            )
            assert opened.fetchone() == (2,)
            assert len(live["products"]) == 3  # the product made again is still there
        assert set(live) == {"stores", "products", "customer_history", "store_sales", "sales_lines"}

        replica = Projector(shop.database, shop.log, batch_size=batch, commit_every=2 * batch)
        for projection in shop.projector:
            replica.add(type(projection)("replica"), inline=False)
        replica.catch_up()
        assert read_models(shop, replica) == live

        shop.projector.rebuild()
        assert read_models(shop, shop.projector) == live
        shop.projector.rebuild(set_based=True)
        assert read_models(shop, shop.projector) == live
        assert shop.projector.status()["lag"].tolist() == [0, 0, 0, 0]
