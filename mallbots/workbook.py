"""The small mall the notebooks start from, with ids a reader can follow.

``mallbots.demo`` lets the shop make its ids (UUIDs). In a notebook, ``waldorf`` and
``basket-ada-1`` are easier to follow than ``bdd640fb-0667-...``, so this script names
every id it can. Only an order's id is made by the shop: a checkout derives it from the
basket. Notebook 03 runs these commands one by one; later notebooks call
:func:`small_mall` to start from the same place.
"""

from __future__ import annotations

from dataclasses import dataclass

from mallbots.app import MallBots
from mallbots.baskets import AddItem, CancelBasket, CheckoutBasket, RemoveItem, StartBasket
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
    RebrandProduct,
    RebrandStore,
)


@dataclass(frozen=True)
class MallIds:
    """The ids :func:`small_mall` made (all but the order and invoice are fixed names)."""

    stores: tuple[str, ...] = ("waldorf", "teapots", "bits")
    products: tuple[str, ...] = ("sprocket", "gizmo", "teapot", "kettle")
    customers: tuple[str, ...] = ("ada", "grace")
    baskets: tuple[str, ...] = ("basket-ada-1", "basket-grace-1", "basket-grace-2")
    payment: str = "payment-ada-1"
    order: str = ""
    invoice: str = ""


def small_mall(shop: MallBots) -> MallIds:
    """Three stores, four products, two customers, three baskets and one completed order.

    - ``waldorf`` is created, joins automated shopping and is rebranded (3 events);
      ``teapots`` joins too; ``bits`` never does.
    - ``sprocket`` goes up in price, ``teapot`` down, ``kettle`` is rebranded.
    - Ada's basket is filled, one gizmo is taken out again, and it is checked out; a
      bot is given the order's shopping list and completes it, which readies the order
      (and bills it); paying the invoice completes the order.
    - Grace cancels one basket and leaves another open.
    """
    run = shop.execute
    run(CreateStore("Waldorf Widgets", "Level 1, east wing", store_id="waldorf"))
    run(CreateStore("Teapot Corner", "Level 2, food court", store_id="teapots"))
    run(CreateStore("Bits & Bobs", "Level 3, by the lifts", store_id="bits"))
    run(EnableParticipation("waldorf"))
    run(EnableParticipation("teapots"))
    run(RebrandStore("waldorf", "Waldorf Widgets & Co"))

    run(AddProduct("waldorf", "Sprocket", "4.50", "A fine sprocket", "SPR-1", "sprocket"))
    run(AddProduct("waldorf", "Gizmo", "12.00", "Does everything", "GIZ-1", "gizmo"))
    run(AddProduct("teapots", "Teapot", "24.99", "Holds six cups", "TEA-6", "teapot"))
    run(AddProduct("teapots", "Kettle", "35.00", "Boils water", "KET-1", "kettle"))
    run(IncreaseProductPrice("sprocket", "4.75"))
    run(DecreaseProductPrice("teapot", "19.99"))
    run(RebrandProduct("kettle", "Whistling Kettle", "Boils water, loudly"))

    run(RegisterCustomer("Ada", "555-0100", customer_id="ada"))
    run(RegisterCustomer("Grace", "555-0101", customer_id="grace"))
    run(AuthorizePayment("ada", "60.00", payment_id="payment-ada-1"))

    run(StartBasket("ada", basket_id="basket-ada-1"))
    run(AddItem("basket-ada-1", "sprocket", 3))
    run(AddItem("basket-ada-1", "teapot", 1))
    run(AddItem("basket-ada-1", "gizmo", 2))
    run(RemoveItem("basket-ada-1", "gizmo", 1))
    order = run(CheckoutBasket("basket-ada-1", "payment-ada-1"))
    shopping_list = run(GetOrder(order)).shopping_id
    run(AssignShoppingList(shopping_list, "bot-1"))
    run(CompleteShoppingList(shopping_list))  # the depot readies the order
    (invoice,) = run(GetOrderInvoices(order))
    run(PayInvoice(invoice.id))

    run(StartBasket("grace", basket_id="basket-grace-1"))
    run(AddItem("basket-grace-1", "kettle", 1))
    run(CancelBasket("basket-grace-1"))
    run(StartBasket("grace", basket_id="basket-grace-2"))
    run(AddItem("basket-grace-2", "teapot", 2))
    return MallIds(order=order, invoice=invoice.id)
