"""The customers module: registered customers who may be authorised to order."""

from mallbots.customers.application import (
    AuthorizeCustomer,
    CustomersApplication,
    DisableCustomer,
    EnableCustomer,
    GetCustomer,
    RegisterCustomer,
)
from mallbots.customers.module import CustomersModule
from mallbots.customers.repository import Customer

__all__ = [
    "AuthorizeCustomer",
    "Customer",
    "CustomersApplication",
    "CustomersModule",
    "DisableCustomer",
    "EnableCustomer",
    "GetCustomer",
    "RegisterCustomer",
]
