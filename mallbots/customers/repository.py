"""The customers table (``customers.customers``), as in the book's schema."""

from __future__ import annotations

from dataclasses import dataclass

from mallbots.es import Database
from mallbots.table import Table


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    sms_number: str
    enabled: bool


class CustomerRepository:
    """Finds, adds and updates customers."""

    def __init__(self, database: Database, table: str = "customers.customers") -> None:
        self.table = Table(
            database,
            table,
            {
                "id": "VARCHAR",
                "name": "VARCHAR NOT NULL",
                "sms_number": "VARCHAR NOT NULL",
                "enabled": "BOOLEAN NOT NULL",
            },
        )

    def find(self, customer_id: str) -> Customer | None:
        row = self.table.get(customer_id)
        return None if row is None else Customer(**row)

    def add(self, customer: Customer) -> None:
        self.table.insert(vars(customer))

    def set_enabled(self, customer_id: str, enabled: bool) -> None:
        self.table.update(customer_id, enabled=enabled)
