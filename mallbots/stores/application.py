"""The stores module's application service: its commands, its queries, and its port.

Commands change the Store and Product aggregates; queries are answered from the mall
and catalog read models, which the projector keeps in step inside the same transaction.
:meth:`StoresApplication.find_store` and :meth:`~StoresApplication.find_product` are the
port other modules (baskets, depot) use to look stores and products up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mallbots.errors import require_text
from mallbots.es import AggregateRepository
from mallbots.es.books import Continuations, close_books
from mallbots.es.ids import IdFactory
from mallbots.service import ApplicationService, command, load, query
from mallbots.stores.catalog import Catalog, CatalogProduct
from mallbots.stores.errors import (
    ProductIdIsBlankError,
    ProductNotFoundError,
    StoreIdIsBlankError,
    StoreNotFoundError,
)
from mallbots.stores.mall import Mall, MallStore
from mallbots.stores.product import Product
from mallbots.stores.store import Store

# --- commands ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateStore:
    name: str
    location: str
    store_id: str | None = None
    """Leave out to have the shop make one."""


@dataclass(frozen=True)
class EnableParticipation:
    store_id: str


@dataclass(frozen=True)
class DisableParticipation:
    store_id: str


@dataclass(frozen=True)
class RebrandStore:
    store_id: str
    name: str


@dataclass(frozen=True)
class AddProduct:
    store_id: str
    name: str
    price: Any
    """Exact money: a ``Decimal``, an ``int`` or a string such as ``"9.99"``."""
    description: str = ""
    sku: str = ""
    product_id: str | None = None
    """Leave out to have the shop make one."""


@dataclass(frozen=True)
class RebrandProduct:
    product_id: str
    name: str
    description: str | None = None
    """The new description; None keeps the one the product has (the book takes both)."""


@dataclass(frozen=True)
class IncreaseProductPrice:
    product_id: str
    price: Any
    """The new price (as in the book), not the difference."""


@dataclass(frozen=True)
class DecreaseProductPrice:
    product_id: str
    price: Any
    """The new price (as in the book), not the difference."""


@dataclass(frozen=True)
class RemoveProduct:
    product_id: str


@dataclass(frozen=True)
class CloseProductBooks:
    """End the product's stream and continue it in a new one (its id stays the same)."""

    product_id: str


# --- queries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GetStore:
    store_id: str


@dataclass(frozen=True)
class GetStores:
    """Every store of the mall (the mall read model)."""


@dataclass(frozen=True)
class GetParticipatingStores:
    """The stores taking part in automated shopping."""


@dataclass(frozen=True)
class GetCatalog:
    store_id: str


@dataclass(frozen=True)
class GetProduct:
    product_id: str


# --- the service ------------------------------------------------------------------------------


class StoresApplication(ApplicationService):
    """Stores and products: commands on the aggregates, queries on the read models."""

    def __init__(
        self,
        stores: AggregateRepository[Store],
        products: AggregateRepository[Product],
        mall: Mall,
        catalog: Catalog,
        ids: IdFactory,
        continuations: Continuations,
    ) -> None:
        super().__init__(mall.database, ids)
        self.stores = stores
        self.products = products
        self.mall = mall
        self.catalog = catalog
        self.continuations = continuations

    @command(CreateStore)
    def create_store(self, cmd: CreateStore) -> str:
        """Create a store; returns its id."""
        store = self.stores.load_or_new(self.new_id(cmd.store_id, "store id", StoreIdIsBlankError))
        store.create(cmd.name, cmd.location)
        self.stores.save(store)
        return store.id

    @command(EnableParticipation)
    def enable_participation(self, cmd: EnableParticipation) -> None:
        store = load(self.stores, cmd.store_id, StoreNotFoundError)
        store.enable_participation()
        self.stores.save(store)

    @command(DisableParticipation)
    def disable_participation(self, cmd: DisableParticipation) -> None:
        store = load(self.stores, cmd.store_id, StoreNotFoundError)
        store.disable_participation()
        self.stores.save(store)

    @command(RebrandStore)
    def rebrand_store(self, cmd: RebrandStore) -> None:
        store = load(self.stores, cmd.store_id, StoreNotFoundError)
        store.rebrand(cmd.name)
        self.stores.save(store)

    @command(AddProduct)
    def add_product(self, cmd: AddProduct) -> str:
        """Add a product to a store that exists; returns the product's id."""
        product_id = self.new_id(cmd.product_id, "product id", ProductIdIsBlankError)
        product = self.products.load_or_new(product_id)
        product.add(cmd.store_id, cmd.name, cmd.description, cmd.sku, cmd.price)
        if self.mall.find(cmd.store_id) is None:
            raise StoreNotFoundError(cmd.store_id)
        self.products.save(product)
        return product.id

    @command(RebrandProduct)
    def rebrand_product(self, cmd: RebrandProduct) -> None:
        product = load(self.products, cmd.product_id, ProductNotFoundError)
        description = product.description if cmd.description is None else cmd.description
        product.rebrand(cmd.name, description)
        self.products.save(product)

    @command(IncreaseProductPrice)
    def increase_product_price(self, cmd: IncreaseProductPrice) -> None:
        product = load(self.products, cmd.product_id, ProductNotFoundError)
        product.increase_price(cmd.price)
        self.products.save(product)

    @command(DecreaseProductPrice)
    def decrease_product_price(self, cmd: DecreaseProductPrice) -> None:
        product = load(self.products, cmd.product_id, ProductNotFoundError)
        product.decrease_price(cmd.price)
        self.products.save(product)

    @command(RemoveProduct)
    def remove_product(self, cmd: RemoveProduct) -> None:
        product = load(self.products, cmd.product_id, ProductNotFoundError)
        product.remove()
        self.products.save(product)

    @command(CloseProductBooks)
    def close_product_books(self, cmd: CloseProductBooks) -> str:
        """Close the product's books; returns the id of the stream it now lives in."""
        product = load(self.products, cmd.product_id, ProductNotFoundError)
        return close_books(self.products, self.continuations, product)

    # --- queries (from the read models) ---------------------------------------------------------

    @query(GetStore)
    def get_store(self, q: GetStore) -> MallStore:
        store = self.find_store(require_text(q.store_id, "store id"))
        if store is None:
            raise StoreNotFoundError(q.store_id)
        return store

    @query(GetStores)
    def get_stores(self, q: GetStores) -> list[MallStore]:
        return self.mall.all()

    @query(GetParticipatingStores)
    def get_participating_stores(self, q: GetParticipatingStores) -> list[MallStore]:
        return self.mall.participating()

    @query(GetCatalog)
    def get_catalog(self, q: GetCatalog) -> list[CatalogProduct]:
        """A store's products; an unknown store is refused rather than shown empty."""
        self.get_store(GetStore(q.store_id))
        return self.catalog.of_store(q.store_id)

    @query(GetProduct)
    def get_product(self, q: GetProduct) -> CatalogProduct:
        product = self.find_product(require_text(q.product_id, "product id"))
        if product is None:
            raise ProductNotFoundError(q.product_id)
        return product

    # --- the port other modules use ---------------------------------------------------------------

    def find_store(self, store_id: str) -> MallStore | None:
        """The store with this id from the mall read model, or None."""
        return self.mall.find(store_id)

    def find_product(self, product_id: str) -> CatalogProduct | None:
        """The product with this id from the catalog read model, or None once removed."""
        return self.catalog.find(product_id)
