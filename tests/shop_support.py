"""A small shop to test against, and the check that a refused command wrote nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from mallbots import MallBots
from mallbots.baskets import AddItem, StartBasket
from mallbots.customers import RegisterCustomer
from mallbots.payments import AuthorizePayment
from mallbots.stores import AddProduct, CreateStore, EnableParticipation

SEED = 7


@dataclass(frozen=True)
class World:
    """The ids of the small shop every rule test starts from."""

    store: str
    widget: str  # 9.99, in the store
    gadget: str  # 2.50, in the store
    customer: str
    payment: str  # 100.00 for the customer
    basket: str  # open, holding 2 widgets


def build_world(shop: MallBots) -> World:
    run = shop.execute
    store = run(CreateStore("Waldorf Widgets", "Level 1"))
    run(EnableParticipation(store))
    widget = run(AddProduct(store, "Widget", "9.99", "A widget", "W-1"))
    gadget = run(AddProduct(store, "Gadget", "2.50", "A gadget", "G-1"))
    customer = run(RegisterCustomer("Ada", "555-0100"))
    payment = run(AuthorizePayment(customer, "100.00"))
    basket = run(StartBasket(customer))
    run(AddItem(basket, widget, 2))
    return World(store, widget, gadget, customer, payment, basket)


def state_of(shop: MallBots) -> tuple[Any, ...]:
    """Everything a command could write: the log, every table, the projectors' positions."""
    tables = {
        table: shop.database.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
        for table in shop.tables
    }
    checkpoints = shop.database.execute(
        "SELECT * FROM projections.checkpoints ORDER BY ALL"
    ).fetchall()
    positions = shop.projector.status().to_dict("records")
    return shop.log.count(), shop.log.head(), tables, checkpoints, positions


def assert_refused(shop: MallBots, message: Any, error: type[Exception], text: str) -> Exception:
    """``message`` is refused with ``error`` saying exactly ``text``, and nothing changed."""
    before = state_of(shop)
    with pytest.raises(error) as refused:
        shop.execute(message)
    assert str(refused.value) == text
    assert state_of(shop) == before
    return refused.value
