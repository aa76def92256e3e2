"""What notifications need from the customers module: where to send the SMS."""

from __future__ import annotations

from typing import Protocol


class CustomerView(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def sms_number(self) -> str: ...


class Customers(Protocol):
    def find_customer(self, customer_id: str) -> CustomerView | None: ...
