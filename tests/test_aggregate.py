"""The aggregate base: recording, versions, pending events, replay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mallbots.es import Aggregate, SeededIds, SteppingClock
from tests.es_support import Account, AccountOpened, AccountRenamed, AccountV1


def test_recording_applies_at_once_and_keeps_the_event_pending():
    account = Account("a1")
    event = account.record("bank.AccountOpened", AccountOpened("Ada"))
    assert account.owner == "Ada"
    assert (account.version, account.pending_version) == (0, 1)
    assert account.events == (event,)
    assert (event.aggregate_name, event.aggregate_id, event.aggregate_version) == (
        "bank.Account",
        "a1",
        1,
    )
    assert event.position is None


def test_committing_moves_the_version_and_clears_pending():
    account = Account("a1")
    account.open("Ada")
    account.deposit(Decimal("10"))
    account.commit_events()
    assert (account.version, account.pending_version, account.events) == (2, 2, ())
    account.withdraw(Decimal("3"))
    assert account.events[0].aggregate_version == 3


def test_replaying_recorded_events_rebuilds_the_same_state():
    live = Account("a1")
    live.open("Ada")
    live.deposit(Decimal("10"))
    live.rename("Grace")
    replayed = Account("a1")
    for event in live.events:
        replayed.load_event(event)
    assert replayed.state() == live.state()
    assert replayed.version == 3


def test_seeded_ids_and_a_stepping_clock_make_events_reproducible():
    def run():
        account = Account("a1", clock=SteppingClock(), ids=SeededIds(42))
        account.open("Ada")
        account.deposit(Decimal("1"))
        return [(e.id, e.occurred_at) for e in account.events]

    first, second = run(), run()
    assert first == second
    start = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
    assert [when for _, when in first] == [start, start + timedelta(seconds=1)]
    assert len({event_id for event_id, _ in first}) == 2


def test_events_and_aggregates_show_themselves_as_html():
    account = Account("a1")
    account.open("Ada <script>")
    assert "&lt;script&gt;" in account._repr_html_()
    assert "bank.AccountOpened" in account.events[0]._repr_html_()


def test_a_stepping_clock_jumps_forward_to_a_moment_but_never_back():
    start = datetime(2024, 3, 4, 8, tzinfo=UTC)
    clock = SteppingClock(start, timedelta(milliseconds=1))
    clock.advance_to(start + timedelta(hours=1))
    assert clock() == start + timedelta(hours=1)
    clock.advance_to(start)  # already passed: the clock keeps its place
    assert clock() == start + timedelta(hours=1, milliseconds=1)


def test_seeded_ids_are_the_version_4_uuids_of_the_seeded_generator():
    import random
    import uuid

    ids, bits = SeededIds(11), random.Random(11)
    for _ in range(2000):
        assert ids() == str(uuid.UUID(int=bits.getrandbits(128), version=4))


@given(st.text(max_size=40))
def test_derived_ids_are_the_standard_libraries_version_5_uuids(name):
    import uuid

    from mallbots.adapters import ORDERS_OF_BASKETS
    from mallbots.es.ids import uuid5

    assert uuid5(ORDERS_OF_BASKETS, name) == str(uuid.uuid5(ORDERS_OF_BASKETS, name))


def test_seeded_ids_drawn_by_many_threads_are_the_same_ids_each_once():
    import random
    import uuid
    from concurrent.futures import ThreadPoolExecutor

    ids, bits = SeededIds(5), random.Random(5)
    with ThreadPoolExecutor(4) as pool:
        drawn = list(pool.map(lambda _: [ids() for _ in range(700)], range(8)))
    everything = [i for share in drawn for i in share]
    expected = [str(uuid.UUID(int=bits.getrandbits(128), version=4)) for _ in range(5600)]
    assert sorted(everything) == sorted(expected)
    for share in drawn:  # each thread sees its ids in the order they were drawn
        assert share == sorted(share, key=expected.index)


@pytest.mark.parametrize("bad", ["", 5, None, b"a1"])
def test_an_aggregate_needs_a_non_empty_text_id(bad):
    with pytest.raises(ValueError, match="Account needs a non-empty string id"):
        Account(bad)


def test_an_id_that_cannot_be_stored_as_text_is_refused_and_any_other_text_is_kept():
    """A lone surrogate cannot be written as UTF-8: refused when the aggregate is made,
    not later by the store; accented letters are fine."""
    with pytest.raises(ValueError, match=r"Account id 'a\\ud800'"):
        Account("a\ud800")
    assert Account("café").id == "café"


def test_an_event_keeps_a_copy_of_the_metadata_it_was_recorded_with():
    account = Account("a1")
    metadata = {"user": "ada"}
    event = account.record("bank.AccountOpened", AccountOpened("Ada"), metadata)
    metadata["user"] = "eve"
    assert event.metadata == {"user": "ada"}
    assert account.record("bank.AccountRenamed", AccountRenamed("Bo")).metadata == {}


class Shelf(Account):
    """An aggregate whose state holds a mapping, a list and a dataclass, to be shown."""

    def __init__(self, id: str, **kwargs) -> None:
        super().__init__(id, **kwargs)
        self.stock = {"pens": 2, "ink": AccountOpened("Ada")}
        self.empty: list[str] = []


def test_an_aggregate_shows_each_field_of_its_state_in_a_table_with_its_pending_count():
    shelf = Shelf("s1")
    assert shelf._repr_html_() == (
        "<div><b>bank.Account</b> <span style='color:#666'>version 0</span><table>"
        + "".join(
            f"<tr><th style='text-align:left'>{key}</th>"
            f"<td style='text-align:left'>{shown}</td></tr>"
            for key, shown in [
                ("id", "s1"),
                ("owner", ""),
                ("balance", "0"),
                ("closed", "False"),
                ("history", "(none)"),
                ("stock", "pens: 2; ink: owner=Ada"),
                ("empty", "(none)"),
            ]
        )
        + "</table></div>"
    )
    shelf.open("Bo")
    shelf.deposit(Decimal("3"))
    html = shelf._repr_html_()
    assert "version 0 (+2 pending)</span>" in html
    assert "<td style='text-align:left'>AccountOpened; MoneyDeposited</td>" in html
    assert "<td style='text-align:left'>(none)</td>" in html  # the empty list, still


def test_a_memento_restores_an_equal_aggregate_at_its_pending_version_and_stays_intact():
    account = Account("a1")
    account.open("Ada")
    account.deposit(Decimal("5"))
    memento = account.memento()
    restored = Account("a1")
    restored.restore(memento)
    assert (restored.state(), restored.version) == (account.state(), 2)
    restored.deposit(Decimal("1"))
    assert memento["balance"] == Decimal("5") and memento["history"][-1] == "MoneyDeposited"
    with pytest.raises(ValueError, match=r"^bank\.Account 'a1' is loaded already; restore a new"):
        restored.restore(memento)
    with pytest.raises(ValueError, match=r"^a memento of 'a1' cannot restore 'a2'$"):
        Account("a2").restore(memento)


class Plain(Aggregate):
    """An aggregate that keeps no snapshots and never closes its books."""

    NAME = "x.Plain"

    def apply(self, event) -> None:
        pass


def test_an_aggregate_that_does_not_take_snapshots_or_close_its_books_says_so():
    plain = Plain("p1")
    for attempt in (plain.to_snapshot, lambda: plain.apply_snapshot(object())):
        with pytest.raises(TypeError, match=r"^Plain does not take snapshots$"):
            attempt()
    for attempt in (lambda: plain.close_books("p2"), lambda: plain.open_books(Plain("p0"))):
        with pytest.raises(TypeError, match=r"^Plain does not close its books$"):
            attempt()
    plain.record("x.Happened", None)
    with pytest.raises(ValueError, match=r"^x\.Plain 'p1' already has events in 'p1'$"):
        plain.continue_in("p2")


def test_an_aggregate_shows_its_id_version_and_state_in_its_repr():
    account = Account("a1")
    account.open("Ada")
    account.commit_events()
    assert repr(account) == (
        "Account(id='a1', version=1, owner='Ada', balance=Decimal('0'), closed=False, "
        "history=('AccountOpened',))"
    )


def test_nested_values_show_as_text_empty_ones_as_none():
    shelf = Shelf("s1")
    shelf.stock = {}
    shelf.empty = [AccountV1("Ada", Decimal("1"), False, ())]
    html = shelf._repr_html_()
    assert "<th style='text-align:left'>stock</th><td style='text-align:left'>(none)</td>" in html
    assert "<td style='text-align:left'>owner=Ada, balance=1, closed=False, history=()</td>" in html


def test_a_memento_shares_no_state_with_the_aggregate_or_with_what_it_restores():
    shelf = Shelf("s1")
    memento = shelf.memento()
    shelf.stock["pens"] = 3  # changed in place, after the memento
    assert memento["stock"]["pens"] == 2
    restored = Shelf("s1")
    restored.restore(memento)
    restored.stock["pens"] = 4
    assert memento["stock"]["pens"] == 2


def test_a_memento_keeps_values_shared_between_attributes_shared_and_copies_subclasses():
    class Tally(int):  # a subclass of an immutable type may carry mutable state
        marks: list[str]

    shelf = Shelf("s1")
    shelf.also_stock = shelf.stock  # two names for one dict
    shelf.tally = Tally(1)
    shelf.tally.marks = ["a"]
    restored = Shelf("s1")
    restored.restore(shelf.memento())
    assert restored.also_stock is restored.stock and restored.stock is not shelf.stock
    restored.stock["pens"] = 7
    assert restored.also_stock["pens"] == 7
    restored.tally.marks.append("b")
    assert shelf.tally.marks == ["a"]
