"""A small shop, start to finish: the script behind ``python -m mallbots demo``.

Two stores with a few products, one customer, one basket checked out, its shopping
list done by a bot (which readies the order), and the invoice paid.
It goes through :meth:`MallBots.execute` only, as a notebook would.
"""

from __future__ import annotations

from dataclasses import dataclass

from mallbots.app import MallBots
from mallbots.baskets import AddItem, CheckoutBasket, RemoveItem, StartBasket
from mallbots.customers import RegisterCustomer
from mallbots.depot import AssignShoppingList, CompleteShoppingList
from mallbots.ordering import GetOrder
from mallbots.payments import AuthorizePayment, GetOrderInvoices, PayInvoice
from mallbots.stores import (
    AddProduct,
    CreateStore,
    DecreaseProductPrice,
    EnableParticipation,
    IncreaseProductPrice,
)


@dataclass(frozen=True)
class DemoIds:
    """The ids the demo made, to look things up afterwards."""

    stores: tuple[str, ...]
    products: tuple[str, ...]
    customer: str
    basket: str
    order: str
    invoice: str


def run_demo(shop: MallBots) -> DemoIds:
    """Run the small shop on ``shop``; returns the ids it made."""
    run = shop.execute
    widgets = run(CreateStore("Waldorf Widgets", "Level 1, east wing"))
    tea = run(CreateStore("Teapot Corner", "Level 2, food court"))
    run(EnableParticipation(widgets))
    run(EnableParticipation(tea))
    sprocket = run(AddProduct(widgets, "Sprocket", "4.50", "A fine sprocket", "SPR-1"))
    gizmo = run(AddProduct(widgets, "Gizmo", "12.00", "Does everything", "GIZ-1"))
    teapot = run(AddProduct(tea, "Teapot", "24.99", "Holds six cups", "TEA-6"))
    run(IncreaseProductPrice(sprocket, "4.75"))
    run(DecreaseProductPrice(teapot, "19.99"))
    customer = run(RegisterCustomer("Ada", "555-0100"))
    payment = run(AuthorizePayment(customer, "60.00"))
    basket = run(StartBasket(customer))
    run(AddItem(basket, sprocket, 3))
    run(AddItem(basket, teapot, 1))
    run(AddItem(basket, gizmo, 2))
    run(RemoveItem(basket, gizmo, 1))
    order = run(CheckoutBasket(basket, payment))
    shopping_list = run(GetOrder(order)).shopping_id
    run(AssignShoppingList(shopping_list, "bot-1"))
    run(CompleteShoppingList(shopping_list))  # the depot readies the order
    (invoice,) = run(GetOrderInvoices(order))
    run(PayInvoice(invoice.id))
    return DemoIds((widgets, tea), (sprocket, gizmo, teapot), customer, basket, order, invoice.id)
