"""What each process of the multi-process PostgreSQL tests runs (started with spawn)."""

from __future__ import annotations

from decimal import Decimal

from mallbots.es import ConcurrencyError
from mallbots.es.postgres import PostgresDatabase
from tests.storage.backends import Backend, BankOn


def bank_at(url: str) -> tuple[PostgresDatabase, BankOn]:
    database = PostgresDatabase.open(url)
    return database, BankOn(Backend("postgresql", database))


def deposit_with_retries(url: str, account_id: str, deposits: int, start, results) -> None:
    """Deposit 1 ``deposits`` times on one account, reloading and retrying each conflict."""
    database, bank = bank_at(url)
    conflicts = 0
    start.wait()
    with database:
        for _ in range(deposits):
            while True:
                account = bank.accounts.load(account_id)
                account.deposit(Decimal(1))
                try:
                    bank.accounts.save(account)
                    break
                except ConcurrencyError:
                    conflicts += 1
    results.put(conflicts)


def save_after_another_process(url: str, account_id: str, loaded, go, results) -> None:
    """Load the account, wait while another process saves it, then save a stale copy."""
    database, bank = bank_at(url)
    with database:
        account = bank.accounts.load(account_id)
        loaded.set()
        go.wait()
        account.deposit(Decimal(5))
        try:
            bank.accounts.save(account)
            results.put(("saved", account.version))
        except ConcurrencyError as error:
            results.put(("conflict", error.expected, error.actual, str(error)))
