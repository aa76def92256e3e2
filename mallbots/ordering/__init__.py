"""The ordering module: orders, event sourced, from creation to completion.

============================  ===============================================
book (``ordering/internal``)  here
============================  ===============================================
``domain/order*.go``          :mod:`.order`, :mod:`.events`, :mod:`.snapshots`,
                              :mod:`.status`
``domain`` errors             :mod:`.errors`
customer/payment/... repos    :mod:`.ports`
``application``               :mod:`.application`
notification/invoice handlers :mod:`.handlers`
``module.go``                 :mod:`.module`
============================  ===============================================
"""

from mallbots.ordering.application import (
    CancelOrder,
    CompleteOrder,
    CreateOrder,
    GetOrder,
    OrderingApplication,
    ReadyOrder,
)
from mallbots.ordering.events import OrderItem
from mallbots.ordering.module import OrderingModule
from mallbots.ordering.order import Order
from mallbots.ordering.status import OrderStatus

__all__ = [
    "CancelOrder",
    "CompleteOrder",
    "CreateOrder",
    "GetOrder",
    "Order",
    "OrderItem",
    "OrderStatus",
    "OrderingApplication",
    "OrderingModule",
    "ReadyOrder",
]
