"""The notebooks' small mall: readable ids, every kind of stream, the same log each run."""

from __future__ import annotations

from mallbots import MallBots
from mallbots.workbook import small_mall


def test_the_small_mall_names_its_ids_and_is_reproducible():
    logs = []
    for _ in range(2):
        with MallBots.in_memory(seed=42) as shop:
            ids = small_mall(shop)
            logs.append(shop.log_frame())
            streams = shop.log.streams()
            assert set(streams["stream_name"]) == {
                "stores.Store",
                "stores.Product",
                "baskets.Basket",
                "ordering.Order",
            }
            assert set(ids.stores) | set(ids.products) | set(ids.baskets) <= set(
                streams["stream_id"]
            )
            assert shop.read_model("stores.stores")["name"].tolist() == [
                "Bits & Bobs",
                "Teapot Corner",
                "Waldorf Widgets & Co",
            ]
            events = shop.stream_frame("ordering.Order", ids.order)["event_name"].tolist()
            assert events[-1] == "ordering.OrderCompleted"
    assert logs[0].equals(logs[1])
