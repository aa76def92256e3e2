"""The customers module's application service: register, authorise, enable, disable.

Not event sourced, as in the book: a customer is one row of ``customers.customers``.
:meth:`CustomersApplication.find_customer` is the port notifications use.
"""

from __future__ import annotations

from dataclasses import dataclass

from mallbots.customers.errors import (
    CustomerAlreadyDisabledError,
    CustomerAlreadyEnabledError,
    CustomerAlreadyExistsError,
    CustomerIdIsBlankError,
    CustomerNameIsBlankError,
    CustomerNotAuthorizedError,
    CustomerNotFoundError,
    SmsNumberIsBlankError,
)
from mallbots.customers.repository import Customer, CustomerRepository
from mallbots.errors import require_text
from mallbots.es import Database
from mallbots.es.ids import IdFactory
from mallbots.service import ApplicationService, command, query


@dataclass(frozen=True)
class RegisterCustomer:
    name: str
    sms_number: str
    customer_id: str | None = None
    """Leave out to have the shop make one."""


@dataclass(frozen=True)
class AuthorizeCustomer:
    customer_id: str


@dataclass(frozen=True)
class EnableCustomer:
    customer_id: str


@dataclass(frozen=True)
class DisableCustomer:
    customer_id: str


@dataclass(frozen=True)
class GetCustomer:
    customer_id: str


class CustomersApplication(ApplicationService):
    """Customers: a registered customer is enabled until disabled."""

    def __init__(self, database: Database, customers: CustomerRepository, ids: IdFactory) -> None:
        super().__init__(database, ids)
        self.customers = customers

    @command(RegisterCustomer)
    def register_customer(self, cmd: RegisterCustomer) -> str:
        """Register an enabled customer; returns the id."""
        customer_id = self.new_id(cmd.customer_id, "customer id", CustomerIdIsBlankError)
        require_text(cmd.name, "customer name", CustomerNameIsBlankError)
        require_text(cmd.sms_number, "SMS number", SmsNumberIsBlankError)
        if self.customers.find(customer_id) is not None:
            raise CustomerAlreadyExistsError(customer_id)
        self.customers.add(Customer(customer_id, cmd.name, cmd.sms_number, enabled=True))
        return customer_id

    @command(AuthorizeCustomer)
    def authorize_customer(self, cmd: AuthorizeCustomer) -> None:
        """Refuse an unknown or disabled customer."""
        if not self._get(cmd.customer_id).enabled:
            raise CustomerNotAuthorizedError(f"{cmd.customer_id!r} is disabled")

    @command(EnableCustomer)
    def enable_customer(self, cmd: EnableCustomer) -> None:
        if self._get(cmd.customer_id).enabled:
            raise CustomerAlreadyEnabledError()
        self.customers.set_enabled(cmd.customer_id, True)

    @command(DisableCustomer)
    def disable_customer(self, cmd: DisableCustomer) -> None:
        if not self._get(cmd.customer_id).enabled:
            raise CustomerAlreadyDisabledError()
        self.customers.set_enabled(cmd.customer_id, False)

    @query(GetCustomer)
    def get_customer(self, q: GetCustomer) -> Customer:
        return self._get(q.customer_id)

    def find_customer(self, customer_id: str) -> Customer | None:
        """The customer with this id, or None (the port other modules use)."""
        return self.customers.find(customer_id)

    def _get(self, customer_id: str) -> Customer:
        customer = self.customers.find(require_text(customer_id, "customer id"))
        if customer is None:
            raise CustomerNotFoundError(customer_id)
        return customer
