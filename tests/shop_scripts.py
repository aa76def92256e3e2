"""Random shops for property tests: scripts of commands drawn by hypothesis, run on MallBots.

Every script starts from the same small opening (two stores, three products, two
customers with a basket each, not empty), so that most drawn commands have something to act on.
A script is a list of ``(command, a, b)``; ``a`` and ``b`` pick among the ids made so
far and give names, prices and quantities. Commands the shop refuses are skipped, as a
user's would be: the log only ever holds what the rules allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from mallbots import DomainError, MallBots
from mallbots.baskets import (
    AddItem,
    CancelBasket,
    CheckoutBasket,
    GetBasket,
    RemoveItem,
    StartBasket,
)
from mallbots.customers import RegisterCustomer
from mallbots.es import AggregateEvent
from mallbots.ordering import CancelOrder, ReadyOrder
from mallbots.payments import AuthorizePayment, GetOrderInvoices, PayInvoice
from mallbots.stores import (
    AddProduct,
    CloseProductBooks,
    CreateStore,
    DecreaseProductPrice,
    DisableParticipation,
    EnableParticipation,
    IncreaseProductPrice,
    RebrandProduct,
    RebrandStore,
    RemoveProduct,
)

COMMANDS = (
    "store",
    "enable",
    "disable",
    "rebrand_store",
    "product",
    "product",
    "rebrand_product",
    "increase",
    "decrease",
    "remove_product",
    "close_books",
    "customer",
    "basket",
    "add_item",
    "add_item",
    "add_item",
    "remove_item",
    "cancel_basket",
    "checkout",
    "checkout",
    "cancel_order",
    "ready_order",
    "pay",
    "archive",
)

OPENING = [
    ("store", 0, 1),
    ("store", 1, 2),
    ("enable", 0, 1),
    ("product", 0, 10),
    ("product", 1, 4),
    ("product", 3, 25),
    ("customer", 0, 1),
    ("customer", 1, 2),
    ("basket", 0, 1),
    ("basket", 1, 1),
    ("add_item", 0, 2),
    ("add_item", 1, 3),
]

scripts = st.lists(
    st.tuples(st.sampled_from(COMMANDS), st.integers(0, 9), st.integers(1, 30)),
    min_size=5,
    max_size=45,
)


@dataclass
class Ids:
    stores: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)
    baskets: list[str] = field(default_factory=list)
    orders: list[str] = field(default_factory=list)


def pick(ids: list[str], a: int) -> str | None:
    return ids[a % len(ids)] if ids else None


def run_script(
    shop: MallBots, script: list[tuple[str, int, int]], after: Callable[[], None] | None = None
) -> Ids:
    """Run the opening and ``script`` on ``shop``; ``after`` follows every command that ran."""
    ids = Ids()
    for command, a, b in OPENING + list(script):
        try:
            if _run(shop, ids, command, a, b) and after is not None:
                after()
        except DomainError:
            pass
    return ids


def _run(shop: MallBots, ids: Ids, command: str, a: int, b: int) -> bool:
    run = shop.execute
    store, product = pick(ids.stores, a), pick(ids.products, a)
    basket, order = pick(ids.baskets, a), pick(ids.orders, a)
    price = f"{b}.{a * 11 % 100:02d}"
    message: Any = None
    if command == "store":
        ids.stores.append(run(CreateStore(f"Store {a}", f"Level {b}")))
        return True
    if command == "product" and store:
        ids.products.append(run(AddProduct(store, f"Thing {a}", price, f"about {b}", f"S-{b}")))
        return True
    if command == "customer":
        ids.customers.append(run(RegisterCustomer(f"Customer {a}", f"555-{b:04d}")))
        return True
    if command == "basket" and ids.customers:
        ids.baskets.append(run(StartBasket(pick(ids.customers, a))))
        return True
    if command == "checkout" and basket:
        payment = run(AuthorizePayment(run(GetBasket(basket)).customer_id, "100000.00"))
        ids.orders.append(run(CheckoutBasket(basket, payment)))
        return True
    if command == "pay" and order:
        invoices = run(GetOrderInvoices(order))
        if not invoices:
            return False
        message = PayInvoice(invoices[-1].id)
    elif command == "archive":
        shop.archive_closed_streams()
        return True
    else:
        message = _simple(command, store, product, basket, order, a, b, price)
    if message is None:
        return False
    run(message)
    return True


def _simple(command, store, product, basket, order, a, b, price) -> Any:
    """The command message for the commands that only name existing ids."""
    makers: dict[str, tuple[Any, Callable[[], Any]]] = {
        "enable": (store, lambda: EnableParticipation(store)),
        "disable": (store, lambda: DisableParticipation(store)),
        "rebrand_store": (store, lambda: RebrandStore(store, f"Store {a} {b}")),
        "rebrand_product": (product, lambda: RebrandProduct(product, f"Thing {a} {b}", "new")),
        "increase": (product, lambda: IncreaseProductPrice(product, price)),
        "decrease": (product, lambda: DecreaseProductPrice(product, price)),
        "remove_product": (product, lambda: RemoveProduct(product)),
        "close_books": (product, lambda: CloseProductBooks(product)),
        "add_item": (basket and product, lambda: AddItem(basket, product, b % 4 + 1)),
        "remove_item": (basket and product, lambda: RemoveItem(basket, product, b % 3 + 1)),
        "cancel_basket": (basket, lambda: CancelBasket(basket)),
        "cancel_order": (order, lambda: CancelOrder(order)),
        "ready_order": (order, lambda: ReadyOrder(order)),
    }
    needed, make = makers.get(command, (None, None))
    return make() if needed else None  # the ids it needs are not made yet


def published(shop: MallBots) -> list[AggregateEvent]:
    """A list that fills with each event once the command that saved it commits."""
    events: list[AggregateEvent] = []
    shop.dispatcher.subscribe(
        lambda event: shop.database.after_commit(lambda: events.append(event))
    )
    return events


GRAND_TOUR = [
    ("checkout", 0, 1),
    ("checkout", 1, 1),
    ("ready_order", 0, 1),
    ("pay", 0, 1),
    ("cancel_order", 1, 1),
    ("increase", 0, 50),
    ("decrease", 0, 3),
    ("close_books", 0, 1),
    ("increase", 0, 60),
    ("close_books", 0, 1),
    ("rebrand_product", 0, 2),
    ("archive", 0, 0),
    ("decrease", 0, 2),
    ("rebrand_store", 1, 5),
    ("disable", 0, 1),
    ("basket", 0, 1),
    ("add_item", 2, 1),
    ("add_item", 1, 2),
    ("remove_item", 2, 1),
    ("cancel_basket", 2, 1),
    ("remove_product", 0, 1),
    ("close_books", 1, 1),
    ("archive", 0, 0),
]
"""A script that takes every path at least once: the property tests always run it too."""
