"""The reporting module's queries, answered from its read models as DataFrames."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from mallbots.errors import require_text
from mallbots.es import Database
from mallbots.es.ids import IdFactory
from mallbots.reporting.history import CustomerHistory
from mallbots.reporting.sales import StoreSales
from mallbots.service import ApplicationService, query


@dataclass(frozen=True)
class GetCustomerHistory:
    customer_id: str | None = None
    """Leave out for every customer's history."""


@dataclass(frozen=True)
class GetStoreSales:
    """Sales per store, from the sales read model."""


class ReportingApplication(ApplicationService):
    """Queries only: the read models are kept by the projector, not by commands."""

    def __init__(
        self, database: Database, history: CustomerHistory, sales: StoreSales, ids: IdFactory
    ) -> None:
        super().__init__(database, ids)
        self.history = history
        self.sales = sales

    @query(GetCustomerHistory)
    def get_customer_history(self, q: GetCustomerHistory) -> pd.DataFrame:
        """Baskets and orders, oldest first (a customer's, or everyone's)."""
        customer_id = q.customer_id
        if customer_id is not None:
            require_text(customer_id, "customer id")
        return self.history.frame(customer_id)

    @query(GetStoreSales)
    def get_store_sales(self, q: GetStoreSales) -> pd.DataFrame:
        """Quantities and revenue per store, cancelled orders apart."""
        return self.sales.frame()
