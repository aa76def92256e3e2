"""The notifications module's refusals."""

from __future__ import annotations

from mallbots.errors import NotFoundError


class UnknownCustomerError(NotFoundError):
    what = "customer"
