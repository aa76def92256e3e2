"""Reporting: read models that follow events of several modules.

The book's read models (the mall, the catalog) each follow one module. These follow
more: a customer's baskets and orders (:mod:`.history`) and sales per store
(:mod:`.sales`). The module owns no aggregate and handles no command; it only listens.
"""

from mallbots.reporting.application import GetCustomerHistory, GetStoreSales, ReportingApplication
from mallbots.reporting.history import CustomerHistory, CustomerHistoryProjection
from mallbots.reporting.module import ReportingModule
from mallbots.reporting.sales import StoreSales, StoreSalesProjection

__all__ = [
    "CustomerHistory",
    "CustomerHistoryProjection",
    "GetCustomerHistory",
    "GetStoreSales",
    "ReportingApplication",
    "ReportingModule",
    "StoreSales",
    "StoreSalesProjection",
]
