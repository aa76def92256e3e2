"""check_database: damage planted by hand is reported, stream by stream, without raising;
loading a damaged stream names it, and every other stream keeps working."""

from __future__ import annotations

import time
from decimal import Decimal

import duckdb
import pytest

from mallbots.es import CorruptEventError, Database, EventStore
from mallbots.es.duckdb.check import (
    BAD_JSON,
    BAD_METADATA,
    BAD_PAYLOAD,
    DUPLICATE_EVENT_ID,
    DUPLICATE_POSITION,
    DUPLICATE_VERSION,
    EMPTY_STREAM_KEY,
    POSITION_ORDER,
    UNKNOWN_EVENT,
    VERSION_BELOW_ONE,
    VERSION_GAP,
    CheckReport,
    check_database,
)
from tests.es_support import Account, Bank
from tests.reliability.figures import count

GOOD = ["good1", "good2", "good3"]


@pytest.fixture
def bank(db):
    bank = Bank(db, every=None)
    for account_id in [*GOOD, *(f"bad{n}" for n in range(1, 11))]:
        account = bank.open_account(account_id)
        account.deposit(Decimal("10"))
        account.rename("Grace")
        bank.accounts.save(account)
    return bank


def plant(bank: Bank, sql: str, *parameters) -> None:
    bank.database.execute(sql, list(parameters) if parameters else None)
    bank.events.forget_heads()


def position_of(bank: Bank, account_id: str, version: int) -> int:
    (position,) = bank.database.execute(
        "SELECT position FROM bank.events WHERE stream_id = $1 AND stream_version = $2",
        [account_id, version],
    ).fetchone()
    return position


def test_a_healthy_database_checks_clean(bank):
    report = check_database(bank.database, bank.registry)
    assert report.ok and report.problems == [] and report.counts == {}
    assert (report.tables, report.events, report.streams) == (("bank.events",), 39, 13)
    assert str(report).endswith("no problems found")
    assert "39 events in 13 streams" in str(report)
    assert list(report.frame().columns) == [
        "table",
        "stream_name",
        "stream_id",
        "version",
        "position",
        "kind",
        "detail",
    ]


def test_every_kind_of_planted_damage_is_reported_and_only_there(bank):
    events = "UPDATE bank.events SET "
    where = " WHERE stream_id = $1 AND stream_version = $2"
    plant(bank, events + "event_data = '{\"amount\": '" + where, "bad1", 2)
    plant(bank, events + "event_name = 'bank.Mystery'" + where, "bad2", 2)
    plant(bank, "DELETE FROM bank.events" + where, "bad3", 2)
    plant(bank, events + "event_data = '{\"amount\": [1]}'" + where, "bad4", 2)
    plant(bank, events + "position = $3" + where, "bad5", 3, position_of(bank, "good1", 1))
    first, second = position_of(bank, "bad6", 1), position_of(bank, "bad6", 2)
    plant(bank, events + "position = $3" + where, "bad6", 1, -1)  # swap through -1
    plant(bank, events + "position = $3" + where, "bad6", 2, first)
    plant(bank, events + "position = $3" + where, "bad6", 1, second)
    plant(bank, events + "metadata = 'nope'" + where, "bad7", 3)
    plant(bank, events + "metadata = '[1, 2]'" + where, "bad8", 3)
    plant(bank, events + "stream_version = 0" + where, "bad9", 1)
    plant(bank, events + "stream_id = ''" + where, "bad10", 3)

    report = check_database(bank.database, bank.registry)

    found = {(p.stream_id, p.version, p.kind) for p in report.problems}
    assert found == {
        ("bad1", 2, BAD_JSON),
        ("bad2", 2, UNKNOWN_EVENT),
        ("bad3", 2, VERSION_GAP),
        ("bad4", 2, BAD_PAYLOAD),
        ("bad5", 3, DUPLICATE_POSITION),
        ("good1", 1, DUPLICATE_POSITION),  # the other holder of that position
        ("bad5", 3, POSITION_ORDER),  # which is older than bad5's version 2
        ("bad6", 2, POSITION_ORDER),
        ("bad7", 3, BAD_METADATA),
        ("bad8", 3, BAD_METADATA),
        ("bad9", 0, VERSION_BELOW_ONE),
        ("bad9", 1, VERSION_GAP),  # and so version 1 is missing
        ("", 3, EMPTY_STREAM_KEY),  # bad10's last event, moved to the stream ''
        ("", 1, VERSION_GAP),  # which therefore starts at 3
    }
    assert all(
        p.table == "bank.events" and p.stream_name == "bank.Account" for p in report.problems
    )
    detail = {(p.stream_id, p.kind): p.detail for p in report.problems}
    assert "not valid JSON" in detail["bad1", BAD_JSON]
    assert "'bank.Mystery'" in detail["bad2", UNKNOWN_EVENT]
    assert detail["bad3", VERSION_GAP] == (
        "version 2 is missing (the stream goes from 1 to 3, at position "
        f"{position_of(bank, 'bad3', 3)})"
    )
    assert "amount: expected a decimal number" in detail["bad4", BAD_PAYLOAD]
    assert "comes before position" in detail["bad6", POSITION_ORDER]
    assert "not valid JSON" in detail["bad7", BAD_METADATA]
    assert "not a JSON object" in detail["bad8", BAD_METADATA]
    assert detail["", VERSION_GAP].startswith(
        "versions 1 to 2 are missing (the stream goes from 0 to 3, at position "
    )
    assert report.counts[DUPLICATE_POSITION] == 2

    # the report reads well, as a string and as a frame
    text = str(report)
    assert f"{len(report.problems)} problem(s)" in text
    assert "version gap: bank.events: bank.Account 'bad3' version 2" in text
    frame = report.frame()
    assert len(frame) == len(report.problems)
    assert set(frame["kind"]) == {kind for _, _, kind in found}

    # loading names the stream and version; the good streams load as before
    for account_id, version in [("bad1", 2), ("bad2", 2), ("bad3", 2), ("bad4", 2)]:
        with pytest.raises(CorruptEventError) as caught:
            bank.accounts.load(account_id)
        assert f"bank.Account {account_id!r}" in str(caught.value)
        assert f"event {version}" in str(caught.value)
    for account_id in GOOD:
        assert bank.accounts.load(account_id).owner == "Grace"
        account = bank.accounts.load(account_id)
        account.deposit(Decimal("1"))
        bank.accounts.save(account)

    count("damaged rows planted", 11)
    count("problems reported", len(report.problems))


def test_a_table_without_keys_reports_repeated_versions_and_event_ids(bank):
    db = bank.database
    db.execute("CREATE SCHEMA copy")
    db.execute("CREATE TABLE copy.events AS SELECT * FROM bank.events")  # no keys at all
    db.execute(
        "UPDATE copy.events SET position = position + 1000, stream_version = 2 "
        "WHERE stream_id = 'bad1' AND stream_version = 3"
    )
    db.execute(
        "INSERT INTO copy.events SELECT * REPLACE (position + 2000 AS position) "
        "FROM copy.events WHERE stream_id = 'bad2' AND stream_version = 1"
    )
    db.execute("UPDATE copy.events SET position = position + 5000")  # keep positions apart
    report = check_database(db, bank.registry, tables=["copy.events"])
    kinds = {(p.stream_id, p.version, p.kind) for p in report.problems}
    assert kinds == {
        ("bad1", 2, DUPLICATE_VERSION),
        ("bad2", 1, DUPLICATE_VERSION),
        ("bad2", 1, DUPLICATE_EVENT_ID),
        ("bad2", 2, POSITION_ORDER),  # the copy of version 1 came later than version 2
    }
    # the two tables share no position, so none is reported as duplicated
    report = check_database(db, bank.registry, tables=["bank.events", "copy.events"])
    assert DUPLICATE_POSITION not in report.counts


def test_a_registered_table_is_checked_and_a_bad_table_name_is_refused(bank):
    assert check_database(bank.database, bank.registry).tables == ("bank.events",)
    assert check_database(Database.memory(), bank.registry).tables == ()
    with pytest.raises(ValueError, match="identifier"):
        check_database(bank.database, bank.registry, tables=["bank.events; DROP TABLE x"])


@pytest.mark.slow
def test_the_check_is_set_based_and_quick_on_a_long_log(db):
    bank = Bank(db, every=None)
    store = EventStore(db, bank.registry, "bank.events")
    for batch in range(60):
        account = Account(f"long{batch}")
        account.open("Ada")
        for _ in range(999):
            account.deposit(Decimal("1.25"))
        store.save(account)
    plant(bank, "UPDATE bank.events SET event_data = 'x' WHERE position = 33333")
    started = time.perf_counter()
    report = check_database(db, bank.registry)
    elapsed = time.perf_counter() - started
    assert report.events == 60_000
    assert [(p.kind, p.position) for p in report.problems] == [(BAD_JSON, 33333)]
    assert elapsed < 10, f"checking 60,000 events took {elapsed:.1f} s"
    assert isinstance(report, CheckReport)


class _InterruptedCursor:
    """A cursor whose every statement is stopped by Ctrl-C (DuckDB's InterruptException)."""

    def execute(self, *args: object) -> None:
        raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")


def test_ctrl_c_while_check_reads_is_not_taken_for_damage():
    """InterruptException is a duckdb.Error: check must let it through (exit 130), not
    report an unreadable table or a rule it could not check."""
    from mallbots.es.duckdb.check import Invariant, _broken, _read_whole

    with pytest.raises(duckdb.InterruptException):
        _read_whole(_InterruptedCursor(), "stores.events", "run mallbots rebuild")
    rule = Invariant("a rule", ("stores.events",), "SELECT 1")
    with pytest.raises(duckdb.InterruptException):
        _broken(_InterruptedCursor(), rule, set(), [])
