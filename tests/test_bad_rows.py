"""Bad rows load with a clear error naming stream and version, and touch nothing else."""

from __future__ import annotations

import pytest

from mallbots.es import CorruptEventError, EventLog
from tests.es_support import Bank


@pytest.fixture
def damaged(db):
    bank = Bank(db, every=None)
    for account_id in ("good", "bad"):
        account = bank.open_account(account_id)
        account.rename("Grace")
        account.rename("Hopper")
        bank.accounts.save(account)
    return bank


def damage(bank: Bank, sql: str) -> None:
    bank.database.execute(sql + " WHERE stream_id = 'bad' AND stream_version = 2")
    bank.events.forget_heads()


@pytest.mark.parametrize(
    ("sql", "words"),
    [
        ("UPDATE bank.events SET event_name = 'bank.Mystery'", "unknown event or snapshot name"),
        ("UPDATE bank.events SET event_data = '{\"owner\": '", "not valid JSON"),
        ("UPDATE bank.events SET event_data = '{}'", "owner: missing"),
        ("UPDATE bank.events SET event_data = '{\"owner\": 7}'", "expected a string"),
        ("DELETE FROM bank.events", "version 2 is missing"),
        # JSON that Python's parser refuses for reasons of its own
        ("UPDATE bank.events SET event_data = repeat('[', 100000)", "not valid JSON"),
        (
            "UPDATE bank.events SET event_data = '{\"owner\": ' || repeat('9', 5000) || '}'",
            "not valid JSON",
        ),
        ("UPDATE bank.events SET metadata = repeat('[', 100000)", "metadata is not valid"),
    ],
)
def test_a_bad_row_names_its_stream_and_version(damaged, sql, words):
    before = damaged.database.execute(
        "SELECT * FROM bank.events WHERE stream_id = 'good' ORDER BY stream_version"
    ).fetchall()
    damage(damaged, sql)
    with pytest.raises(CorruptEventError) as caught:
        damaged.accounts.load("bad")
    message = str(caught.value)
    assert "bank.Account 'bad'" in message and "event 2" in message
    assert words in message
    # nothing else in the store is touched, and other streams still load
    after = damaged.database.execute(
        "SELECT * FROM bank.events WHERE stream_id = 'good' ORDER BY stream_version"
    ).fetchall()
    assert after == before
    assert damaged.accounts.load("good").owner == "Hopper"


def test_the_log_reports_the_bad_row_too(damaged):
    damage(damaged, "UPDATE bank.events SET event_data = 'nonsense'")
    with pytest.raises(CorruptEventError, match="'bad'"):
        list(EventLog(damaged.database, damaged.registry).events())
