"""The mall's activity, day by day, as the shop's own commands with the time they happen.

:class:`Activity` is a seeded generator. It keeps its own picture of the mall (which
stores take part, what each product costs, what is in each open basket, which orders
wait) and decides from it, so every command it issues is one the shop accepts, and
the commands do not depend on how they are run (one at a time or in bulk).

A day runs: in the morning the staff toggle participation, rebrand stores and products, reprice,
remove and replace products; new customers register; customers visit (start or
continue a basket, add and remove items, then check out, cancel, leave the basket for
another day or forget it for good); in the evening the back office works as the
book's order flow goes: a pending order's shopping list is assigned to a bot (or the
order is cancelled), a bot completes an assigned list (which readies the order and
bills it), and a ready order's invoice is paid (sometimes adjusted first), which
completes the order. Each step gets a moment at least :data:`GAP` after the one before.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from mallbots.adapters import (
    invoice_id_for_order,
    order_id_for_basket,
    shopping_list_id_for_order,
)
from mallbots.baskets import AddItem, CancelBasket, CheckoutBasket, RemoveItem, StartBasket
from mallbots.customers import RegisterCustomer
from mallbots.depot import AssignShoppingList, CompleteShoppingList
from mallbots.es import SeededIds
from mallbots.ordering import CancelOrder
from mallbots.payments import AdjustInvoice, AuthorizePayment, PayInvoice
from mallbots.simulator import names
from mallbots.simulator.config import SimulationConfig
from mallbots.stores import (
    AddProduct,
    CreateStore,
    DecreaseProductPrice,
    DisableParticipation,
    EnableParticipation,
    IncreaseProductPrice,
    RebrandProduct,
    RebrandStore,
    RemoveProduct,
)

GAP = timedelta(milliseconds=10)
"""The least time between two steps: more than a command's readings of a 1 ms clock."""

CENT = Decimal("0.01")


class Step(NamedTuple):
    """A command and the moment it is issued."""

    moment: datetime
    command: Any


@dataclass
class _Basket:
    id: str
    lines: dict[str, list] = field(default_factory=dict)
    """product id -> [price when first added, quantity], as the Basket keeps its lines."""

    def total(self) -> Decimal:
        return sum((price * quantity for price, quantity in self.lines.values()), Decimal(0))


class Activity:
    """A seeded mall: ``for day, steps in Activity(config).days()`` yields its commands."""

    def __init__(self, config: SimulationConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        digest = hashlib.sha256(f"mallbots-simulator:{config.seed}".encode()).digest()
        self.new_id = SeededIds(int.from_bytes(digest[:8], "big"))
        self.stores: dict[str, bool] = {}  # store id -> participating
        self.products: dict[str, tuple[str, Decimal]] = {}  # on sale: id -> (store, price)
        self.on_sale: list[str] = []  # products of participating stores, for today
        self.customers: list[str] = []
        self.baskets: dict[str, _Basket] = {}  # customer id -> open basket
        self.totals: dict[str, Decimal] = {}  # order id -> total, until it is done
        self.pending: list[str] = []
        self.assigned: list[str] = []
        self.ready: list[str] = []
        self._last = config.start

    def days(self) -> Iterator[tuple[int, list[Step]]]:
        """``(day, steps)`` for each simulated day, in order."""
        for day in range(self.config.days):
            midnight = self.config.start + timedelta(days=day)
            steps = self._timed(
                midnight + timedelta(hours=8), timedelta(hours=1), self._morning(day)
            )
            visits = self._visits()
            steps += self._timed(midnight + timedelta(hours=9), timedelta(hours=12), visits)
            evening = self._back_office()
            steps += self._timed(midnight + timedelta(hours=21), timedelta(hours=2), evening)
            yield day, steps

    def _timed(self, start: datetime, span: timedelta, commands: list[Any]) -> list[Step]:
        """Spread commands over ``span`` from ``start``, never closer than :data:`GAP`."""
        if not commands:
            return []
        every = max(span / len(commands), GAP)
        steps = []
        for i, command in enumerate(commands):
            self._last = max(start + every * i, self._last + GAP)
            steps.append(Step(self._last, command))
        return steps

    # --- the morning: stores, products and new customers -------------------------------------

    def _morning(self, day: int) -> list[Any]:
        commands = self._open_mall() if day == 0 else self._staff()
        commands += self._registrations(day)
        self.on_sale = [p for p, (store, _) in self.products.items() if self.stores[store]]
        return commands

    def _open_mall(self) -> list[Any]:
        config, rng = self.config, self.rng
        commands: list[Any] = []
        for _ in range(config.stores):
            store_id = self.new_id()
            commands.append(CreateStore(names.store_name(rng), names.location(rng), store_id))
            self.stores[store_id] = False
            if rng.random() < 0.9:
                commands.append(EnableParticipation(store_id))
                self.stores[store_id] = True
            commands += [self._new_product(store_id) for _ in range(config.products_per_store)]
        return commands

    def _new_product(self, store_id: str) -> AddProduct:
        rng = self.rng
        product_id = self.new_id()
        name = names.product_name(rng)
        price = Decimal(rng.randint(99, 9999)) * CENT
        self.products[product_id] = (store_id, price)
        return AddProduct(
            store_id, name, price, f"A {name.lower()}", names.sku(rng, name), product_id
        )

    def _staff(self) -> list[Any]:
        config, rng = self.config, self.rng
        commands: list[Any] = []
        for store_id, participating in self.stores.items():
            if rng.random() < config.toggle_participation:
                toggle = DisableParticipation if participating else EnableParticipation
                commands.append(toggle(store_id))
                self.stores[store_id] = not participating
            if rng.random() < config.rebrand_store:
                commands.append(RebrandStore(store_id, names.store_name(rng)))
        for product_id, (store_id, price) in list(self.products.items()):
            if rng.random() < config.reprice_product:
                commands.append(self._reprice(product_id, store_id, price))
            if rng.random() < config.rebrand_product:
                name = names.product_name(rng)
                commands.append(RebrandProduct(product_id, name, f"A {name.lower()}"))
            if rng.random() < config.remove_product:
                commands.append(RemoveProduct(product_id))
                del self.products[product_id]
                commands.append(self._new_product(store_id))
        return commands

    def _reprice(self, product_id: str, store_id: str, price: Decimal) -> Any:
        factor = Decimal(self.rng.choice((80, 90, 95, 105, 110, 125))) * CENT
        new = max((price * factor).quantize(CENT), CENT)
        if new == price:
            new = price + CENT
        self.products[product_id] = (store_id, new)
        change = IncreaseProductPrice if new > price else DecreaseProductPrice
        return change(product_id, new)

    def _registrations(self, day: int) -> list[Any]:
        config, rng = self.config, self.rng
        days = max(config.registration_days, 1)
        due = config.customers * min(day + 1, days) // days
        commands = []
        while len(self.customers) < due:
            customer_id = self.new_id()
            phone = f"555-{rng.randint(0, 9999):04d}"
            commands.append(RegisterCustomer(names.customer_name(rng), phone, customer_id))
            self.customers.append(customer_id)
        return commands

    # --- the day: customers visit -----------------------------------------------------------

    def _visits(self) -> list[Any]:
        rng = self.rng
        visitors = [c for c in self.customers if rng.random() < self.config.visit]
        rng.shuffle(visitors)
        commands: list[Any] = []
        for customer_id in visitors:
            commands += self._visit(customer_id)
        return commands

    def _visit(self, customer_id: str) -> list[Any]:
        config, rng = self.config, self.rng
        commands: list[Any] = []
        basket = self.baskets.get(customer_id)
        if basket is None:
            basket = self.baskets[customer_id] = _Basket(self.new_id())
            commands.append(StartBasket(customer_id, basket.id))
        for _ in range(rng.randint(1, config.items_per_visit) if self.on_sale else 0):
            product_id = rng.choice(self.on_sale)
            quantity = rng.randint(1, config.max_quantity)
            commands.append(AddItem(basket.id, product_id, quantity))
            line = basket.lines.setdefault(product_id, [self.products[product_id][1], 0])
            line[1] += quantity
        if basket.lines and rng.random() < config.remove_item:
            product_id = rng.choice(list(basket.lines))
            quantity = rng.randint(1, basket.lines[product_id][1])
            commands.append(RemoveItem(basket.id, product_id, quantity))
            basket.lines[product_id][1] -= quantity
            if not basket.lines[product_id][1]:
                del basket.lines[product_id]
        return commands + self._leave(customer_id, basket)

    def _leave(self, customer_id: str, basket: _Basket) -> list[Any]:
        """Check out, cancel, keep the basket for another visit, or forget it open."""
        config, rng = self.config, self.rng
        outcome = rng.random()
        if outcome < config.checkout and basket.lines:
            payment_id = self.new_id()
            del self.baskets[customer_id]
            order_id = order_id_for_basket(basket.id)
            self.pending.append(order_id)
            self.totals[order_id] = basket.total()
            return [
                AuthorizePayment(customer_id, basket.total(), payment_id),
                CheckoutBasket(basket.id, payment_id),
            ]
        if outcome < config.checkout + config.cancel_basket:
            del self.baskets[customer_id]
            return [CancelBasket(basket.id)]
        if rng.random() < config.forget_basket:
            del self.baskets[customer_id]
        return []

    # --- the evening: the back office --------------------------------------------------------

    def _back_office(self) -> list[Any]:
        """Pay ready orders' invoices, complete assigned lists, assign or cancel pending."""
        config, rng = self.config, self.rng
        commands: list[Any] = []
        still_ready = []
        for order_id in self.ready:
            if rng.random() < config.pay_invoice:
                invoice_id = invoice_id_for_order(order_id)
                total = self.totals.pop(order_id)
                if rng.random() < config.adjust_invoice:
                    discount = Decimal(rng.choice((90, 95))) * CENT
                    commands.append(AdjustInvoice(invoice_id, (total * discount).quantize(CENT)))
                commands.append(PayInvoice(invoice_id))
            else:
                still_ready.append(order_id)
        still_assigned = []
        for order_id in self.assigned:
            outcome = rng.random()
            if outcome < config.cancel_order:
                commands.append(CancelOrder(order_id))
                del self.totals[order_id]
            elif outcome < config.cancel_order + config.complete_list:
                commands.append(CompleteShoppingList(shopping_list_id_for_order(order_id)))
                still_ready.append(order_id)
            else:
                still_assigned.append(order_id)
        still_pending = []
        for order_id in self.pending:
            outcome = rng.random()
            if outcome < config.cancel_order:
                commands.append(CancelOrder(order_id))
                del self.totals[order_id]
            elif outcome < config.cancel_order + config.assign_list:
                bot = f"bot-{rng.randint(1, max(config.bots, 1))}"
                commands.append(AssignShoppingList(shopping_list_id_for_order(order_id), bot))
                still_assigned.append(order_id)
            else:
                still_pending.append(order_id)
        self.ready, self.assigned, self.pending = still_ready, still_assigned, still_pending
        return commands
