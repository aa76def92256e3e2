"""A small shop run one command at a time, so every module's tables hold rows: orders
pending, readied (invoice pending), completed (invoice paid) and cancelled."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mallbots import MallBots
from mallbots.baskets import AddItem, CheckoutBasket, StartBasket
from mallbots.customers import RegisterCustomer
from mallbots.ordering import CancelOrder, ReadyOrder
from mallbots.payments import AuthorizePayment, GetOrderInvoices, PayInvoice
from mallbots.stores import AddProduct, CreateStore, EnableParticipation


@dataclass
class SmallMall:
    """The ids of each kind of order, and of the baskets they came from."""

    pending: list[str] = field(default_factory=list)
    readied: list[str] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    baskets: dict[str, str] = field(default_factory=dict)
    """order id -> basket id"""

    @property
    def orders(self) -> list[str]:
        return [*self.pending, *self.readied, *self.completed, *self.cancelled]


def fill_small_mall(shop: MallBots, each: int = 3) -> SmallMall:
    """``each`` orders of every kind, placed through the shop's commands."""
    run = shop.execute
    store = run(CreateStore("Corner Shop", "Level 2"))
    run(EnableParticipation(store))
    products = [
        run(AddProduct(store, f"Thing {n}", f"{n}.50", "a thing", f"T-{n}")) for n in (1, 2)
    ]
    mall = SmallMall()
    kinds = [mall.pending, mall.readied, mall.completed, mall.cancelled]
    for n in range(each * len(kinds)):
        customer = run(RegisterCustomer(f"Customer {n}", f"555-{n:04}"))
        payment = run(AuthorizePayment(customer, "100.00"))
        basket = run(StartBasket(customer))
        for product in products:
            run(AddItem(basket, product, 1 + n % 2))
        order = run(CheckoutBasket(basket, payment))
        mall.baskets[order] = basket
        kind = kinds[n % len(kinds)]
        kind.append(order)
        if kind is mall.cancelled:
            run(CancelOrder(order))
        if kind is mall.readied or kind is mall.completed:
            run(ReadyOrder(order))
        if kind is mall.completed:
            (invoice,) = run(GetOrderInvoices(order))
            run(PayInvoice(invoice.id))
    return mall


def small_mall_file(path: Path, snapshot_every: int = 1) -> SmallMall:
    """A closed (checkpointed) shop file holding a small mall."""
    with MallBots.open(path, seed=7, snapshot_every=snapshot_every) as shop:
        mall = fill_small_mall(shop)
        shop.database.execute("CHECKPOINT")
    return mall
