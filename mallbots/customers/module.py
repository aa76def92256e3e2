"""The customers module (the book's ``customers/module.go``): one plain table."""

from __future__ import annotations

from mallbots.customers.application import CustomersApplication
from mallbots.customers.repository import CustomerRepository
from mallbots.monolith import Monolith

SCHEMA = "customers"


class CustomersModule:
    """Customers in ``customers.customers``; not event sourced, as in the book."""

    def __init__(self, monolith: Monolith) -> None:
        self.customers = CustomerRepository(monolith.database, f"{SCHEMA}.customers")
        self.application = CustomersApplication(monolith.database, self.customers, monolith.ids)

    @property
    def tables(self) -> list[str]:
        return [self.customers.table.name]
