"""The stores module: stores and their products, event sourced, with the mall and catalog.

==========================  =================================================
book (``stores/internal``)  here
==========================  =================================================
``domain/store*.go``        :mod:`.store`, :mod:`.events`, :mod:`.snapshots`
``domain/product*.go``      :mod:`.product`, :mod:`.events`, :mod:`.snapshots`
``domain`` errors           :mod:`.errors`
mall handlers + repository  :mod:`.mall`
catalog handlers + repo     :mod:`.catalog`
``application``             :mod:`.application`
``module.go``               :mod:`.module`
==========================  =================================================
"""

from mallbots.stores.application import (
    AddProduct,
    CloseProductBooks,
    CreateStore,
    DecreaseProductPrice,
    DisableParticipation,
    EnableParticipation,
    GetCatalog,
    GetParticipatingStores,
    GetProduct,
    GetStore,
    GetStores,
    IncreaseProductPrice,
    RebrandProduct,
    RebrandStore,
    RemoveProduct,
    StoresApplication,
)
from mallbots.stores.catalog import CatalogProduct
from mallbots.stores.mall import MallStore
from mallbots.stores.module import StoresModule
from mallbots.stores.product import Product
from mallbots.stores.store import Store

__all__ = [
    "AddProduct",
    "CatalogProduct",
    "CloseProductBooks",
    "CreateStore",
    "DecreaseProductPrice",
    "DisableParticipation",
    "EnableParticipation",
    "GetCatalog",
    "GetParticipatingStores",
    "GetProduct",
    "GetStore",
    "GetStores",
    "IncreaseProductPrice",
    "MallStore",
    "Product",
    "RebrandProduct",
    "RebrandStore",
    "RemoveProduct",
    "Store",
    "StoresApplication",
    "StoresModule",
]
