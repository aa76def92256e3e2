"""The reporting module: cross-module read models in the ``reporting`` schema."""

from __future__ import annotations

from mallbots.es import Projection
from mallbots.monolith import Monolith
from mallbots.reporting.application import ReportingApplication
from mallbots.reporting.history import CustomerHistory, CustomerHistoryProjection
from mallbots.reporting.sales import StoreSales, StoreSalesProjection

SCHEMA = "reporting"


class ReportingModule:
    """A customer's history and sales per store, kept by the monolith's projector."""

    def __init__(self, monolith: Monolith) -> None:
        self.history_projection = CustomerHistoryProjection(SCHEMA)
        self.sales_projection = StoreSalesProjection(SCHEMA)
        self.application = ReportingApplication(
            monolith.database,
            CustomerHistory(monolith.read_side, self.history_projection.table),
            StoreSales(monolith.read_side, self.sales_projection),
            monolith.ids,
        )

    @property
    def projections(self) -> list[Projection]:
        """The read models the monolith's projector must run inline."""
        return [self.history_projection, self.sales_projection]

    @property
    def tables(self) -> list[str]:
        """Its tables belong to its projections (see :attr:`projections`)."""
        return []
