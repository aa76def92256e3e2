"""The baskets module: customers' baskets, event sourced; a checkout creates the order.

===========================  ================================================
book (``baskets/internal``)  here
===========================  ================================================
``domain/basket*.go``        :mod:`.basket`, :mod:`.events`, :mod:`.snapshots`,
                             :mod:`.status`
``domain`` errors            :mod:`.errors`
product/store/order repos    :mod:`.ports`
``application``              :mod:`.application`
``order_handlers.go``        :mod:`.handlers`
``module.go``                :mod:`.module`
===========================  ================================================
"""

from mallbots.baskets.application import (
    AddItem,
    BasketsApplication,
    CancelBasket,
    CheckoutBasket,
    GetBasket,
    RemoveItem,
    StartBasket,
)
from mallbots.baskets.basket import Basket
from mallbots.baskets.events import Item
from mallbots.baskets.module import BasketsModule
from mallbots.baskets.status import BasketStatus

__all__ = [
    "AddItem",
    "Basket",
    "BasketStatus",
    "BasketsApplication",
    "BasketsModule",
    "CancelBasket",
    "CheckoutBasket",
    "GetBasket",
    "Item",
    "RemoveItem",
    "StartBasket",
]
