"""The baskets module's application service: start, fill, empty, cancel, check out.

Adding an item looks the product and its store up through the :class:`~.ports.Catalog`
port (the stores module's read models). An unknown product or store is refused: the
book's ``AddItem`` returns nil when the store is missing and the basket silently stays
as it was. Starting a basket for a customer the shop does not know is refused too (the
book takes any id, and such a basket could never be checked out).
"""

from __future__ import annotations

from dataclasses import dataclass

from mallbots.baskets.basket import Basket
from mallbots.baskets.errors import (
    BasketIdIsBlankError,
    BasketNotFoundError,
    UnknownCustomerError,
    UnknownProductError,
    UnknownStoreError,
)
from mallbots.baskets.ports import Catalog, Customers, Orders
from mallbots.errors import require_text
from mallbots.es import AggregateRepository, Database
from mallbots.es.ids import IdFactory
from mallbots.service import ApplicationService, command, load, query


@dataclass(frozen=True)
class StartBasket:
    customer_id: str
    basket_id: str | None = None
    """Leave out to have the shop make one."""


@dataclass(frozen=True)
class AddItem:
    basket_id: str
    product_id: str
    quantity: int = 1


@dataclass(frozen=True)
class RemoveItem:
    basket_id: str
    product_id: str
    quantity: int = 1


@dataclass(frozen=True)
class CancelBasket:
    basket_id: str


@dataclass(frozen=True)
class CheckoutBasket:
    basket_id: str
    payment_id: str


@dataclass(frozen=True)
class GetBasket:
    basket_id: str


class BasketsApplication(ApplicationService):
    """Baskets: every command loads the basket, asks it, and saves what it recorded."""

    def __init__(
        self,
        database: Database,
        baskets: AggregateRepository[Basket],
        catalog: Catalog,
        customers: Customers,
        orders: Orders,
        ids: IdFactory,
    ) -> None:
        super().__init__(database, ids)
        self.baskets = baskets
        self.catalog = catalog
        self.customers = customers
        self.orders = orders

    @command(StartBasket)
    def start_basket(self, cmd: StartBasket) -> str:
        """Open a basket for a customer; returns its id."""
        basket_id = self.new_id(cmd.basket_id, "basket id", BasketIdIsBlankError)
        basket = self.baskets.load_or_new(basket_id)
        basket.start(cmd.customer_id)
        if self.customers.find_customer(cmd.customer_id) is None:
            raise UnknownCustomerError(cmd.customer_id)
        self.baskets.save(basket)
        return basket.id

    @command(AddItem)
    def add_item(self, cmd: AddItem) -> None:
        basket = load(self.baskets, cmd.basket_id, BasketNotFoundError)
        product_id = require_text(cmd.product_id, "product id")
        product = self.catalog.find_product(product_id)
        if product is None:
            raise UnknownProductError(product_id)
        store = self.catalog.find_store(product.store_id)
        if store is None:
            raise UnknownStoreError(product.store_id)
        basket.add_item(store, product, cmd.quantity)
        self.baskets.save(basket)

    @command(RemoveItem)
    def remove_item(self, cmd: RemoveItem) -> None:
        """Take items out. No catalog look-up: a product since removed can still leave."""
        basket = load(self.baskets, cmd.basket_id, BasketNotFoundError)
        basket.remove_item(require_text(cmd.product_id, "product id"), cmd.quantity)
        self.baskets.save(basket)

    @command(CancelBasket)
    def cancel_basket(self, cmd: CancelBasket) -> None:
        basket = load(self.baskets, cmd.basket_id, BasketNotFoundError)
        basket.cancel()
        self.baskets.save(basket)

    @command(CheckoutBasket)
    def checkout_basket(self, cmd: CheckoutBasket) -> str:
        """Check out; the order is created by the handler of the event. Returns its id."""
        basket = load(self.baskets, cmd.basket_id, BasketNotFoundError)
        basket.checkout(cmd.payment_id)
        self.baskets.save(basket)
        return self.orders.order_id_for(basket.id)

    @query(GetBasket)
    def get_basket(self, q: GetBasket) -> Basket:
        return load(self.baskets, q.basket_id, BasketNotFoundError)
