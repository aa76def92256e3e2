"""The global log read in batches: position windows, several tables, many statements."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mallbots.es import Database, EventLog, EventStore
from mallbots.es import global_log as log
from tests.es_support import Account, bank_registry


def save_accounts(store: EventStore, prefix: str, count: int, deposits: int = 2) -> None:
    for n in range(count):
        account = Account(f"{prefix}{n}")
        account.open("Ada")
        for _ in range(deposits):
            account.deposit(Decimal("1"))
        store.save(account)


@pytest.fixture
def two_tables(db):
    """Positions 1..45 spread over two event tables, interleaved five at a time."""
    bank = EventStore(db, bank_registry(), "bank.events")
    branch = EventStore(db, bank_registry(), "branch.events")
    for round_ in range(3):
        save_accounts(bank, f"a{round_}-", 2, deposits=4)  # 10 events
        save_accounts(branch, f"b{round_}-", 1, deposits=4)  # 5 events
    return db


def expected_windows(positions: list[int], after: int, end: int, size: int) -> list[list[int]]:
    windows, start = [], after
    while start < end:
        window = [p for p in positions if start < p <= min(start + size, end)]
        if window:
            windows.append(window)
        start += size
    return windows


@pytest.mark.parametrize("span", [4, 7, 16_384])
@pytest.mark.parametrize(("after", "size", "up_to"), [(0, 1, None), (0, 4, None), (3, 5, 40)])
def test_batches_cover_position_windows_whatever_the_statement_span(
    two_tables, monkeypatch, span, after, size, up_to
):
    monkeypatch.setattr(log, "QUERY_SPAN", span)
    registry = bank_registry()
    everything = EventLog(two_tables, registry)
    only_bank = EventLog(two_tables, registry, ["bank.events"])
    all_positions = list(range(1, 46))
    bank_positions = [e.position for e in only_bank.read_range(0, 45)]
    assert len(bank_positions) == 30  # with gaps where the branch's events are
    for reader, positions in [(everything, all_positions), (only_bank, bank_positions)]:
        got = [[e.position for e in b] for b in reader.batches(after, size, up_to)]
        assert got == expected_windows(positions, after, up_to or 45, size)


def test_events_of_several_tables_come_in_position_order(two_tables):
    events = list(EventLog(two_tables, bank_registry()).events(batch_size=100))
    assert [e.position for e in events] == list(range(1, 46))
    assert {e.aggregate_id[0] for e in events[:10]} == {"a"}
    assert {e.aggregate_id[0] for e in events[10:15]} == {"b"}


def test_a_log_without_event_tables_is_an_empty_frame_shaped_like_a_full_one(two_tables):
    empty = EventLog(Database.memory(), bank_registry())
    assert empty.count() == 0
    frame = empty.frame()
    assert frame.empty
    assert list(frame.columns) == list(EventLog(two_tables, bank_registry()).frame().columns)
