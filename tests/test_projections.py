"""Projections: inline, catch-up and rebuild agree, checkpoints never double-count."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mallbots.es import CorruptEventError, Database, EventLog
from mallbots.es.projector import Projector
from tests.es_support import AccountError, Balances, Bank


def read_model(db: Database, schema: str = "bank") -> list[tuple]:
    return db.execute(f"SELECT * FROM {schema}.balances ORDER BY id").fetchall()


def projector_for(bank: Bank, schema: str = "bank", inline: bool = True, batch: int = 7):
    projector = Projector(bank.database, EventLog(bank.database, bank.registry), batch)
    projector.add(Balances(schema), inline=inline)
    if inline:
        bank.dispatcher.subscribe(projector.handle)
    return projector


def test_inline_catch_up_and_rebuild_build_the_same_read_model(db):
    bank = Bank(db, every=4)
    inline = projector_for(bank, "inline_view")
    busy_bank_on(bank)
    caught_up = projector_for(bank, "caught_up", inline=False)
    caught_up.catch_up()
    rebuilt = projector_for(bank, "rebuilt", inline=False)
    rebuilt.catch_up()
    rebuilt.rebuild()
    expected = read_model(db, "inline_view")
    assert len(expected) == 5  # six accounts, one closed
    assert read_model(db, "caught_up") == expected
    assert read_model(db, "rebuilt") == expected
    assert inline.position("inline_view.balances") == EventLog(db, bank.registry).head()


def test_a_rebuild_that_fails_partway_leaves_read_model_and_checkpoint_as_they_were(db):
    bank = Bank(db)
    busy_bank_on(bank)
    projector = projector_for(bank, inline=False, batch=3)  # many commits, were it not one
    projector.catch_up()
    before = read_model(db), projector.position("bank.balances")
    head = EventLog(db, bank.registry).head()
    db.execute("UPDATE bank.events SET event_data = '{bad' WHERE position = $1", [head - 2])
    with pytest.raises(CorruptEventError):
        projector.rebuild()
    assert (read_model(db), projector.position("bank.balances")) == before
    fresh = projector_for(bank, inline=False)  # the checkpoint on disk is the old one too
    assert fresh.position("bank.balances") == before[1]
    assert fresh.catch_up() == 0


def busy_bank_on(bank: Bank) -> None:
    """Run the busy script on an already wired bank."""
    for n in range(6):
        bank.open_account(f"a{n}", owner=f"owner {n}")
    for round_ in range(5):
        for n in range(6):
            account = bank.accounts.load(f"a{n}")
            if account.closed:
                continue
            account.deposit(Decimal(n + round_ + 1))
            if (n + round_) % 3 == 0:
                account.withdraw(Decimal("0.50"))
            if (n, round_) == (2, 3):
                account.close()
            bank.accounts.save(account)


def busy_bank_projected_inline(db, projection) -> Bank:
    """A bank whose dispatcher keeps ``projection`` up to date inline, after the busy
    script (:func:`busy_bank_on`)."""
    bank = Bank(db, every=None)
    projector = Projector(db, EventLog(db, bank.registry))
    projector.add(projection)
    bank.dispatcher.subscribe(projector.handle)
    busy_bank_on(bank)
    return bank


@pytest.mark.parametrize("stop_after", [0, 1, 2, 3, 5, 8])
def test_a_projection_stopped_after_any_batch_resumes_to_the_same_read_model(db, stop_after):
    bank = Bank(db, every=None)
    busy_bank_on(bank)
    whole = projector_for(bank, "whole", inline=False)
    whole.catch_up()
    interrupted = projector_for(bank, "resumed", inline=False, batch=5)
    interrupted.catch_up(max_batches=stop_after)
    # a new projector, as after a restart, reads its checkpoint from the database
    restarted = Projector(db, EventLog(db, bank.registry), 5)
    restarted.add(Balances("resumed"), inline=False)
    assert restarted.position("resumed.balances") == interrupted.position("resumed.balances")
    restarted.catch_up()
    assert read_model(db, "resumed") == read_model(db, "whole")


def test_two_projectors_of_one_read_model_on_one_database_apply_each_event_once(db):
    # Two apps on one database in one process (a notebook cell run twice): each wires its
    # own inline projector for the same read model, and they take turns saving.
    first, second = Bank(db, every=None, seed=1), Bank(db, every=None, seed=2)
    projectors = [projector_for(first), projector_for(second)]
    first.open_account("a1")
    for n in range(6):
        bank = (first, second)[n % 2]
        account = bank.accounts.load("a1")
        account.deposit(Decimal(10**n))
        bank.accounts.save(account)
    (row,) = read_model(db)
    assert (row[2], row[4]) == (Decimal("111111"), 7)  # each deposit counted once
    replayed = projector_for(first, "replayed", inline=False)
    replayed.catch_up()
    assert read_model(db, "replayed") == read_model(db)
    head = EventLog(db, first.registry).head()
    assert [p.position("bank.balances") for p in projectors] == [head, head]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    turns=st.lists(
        st.tuples(st.sampled_from([0, 1]), st.integers(1, 9), st.booleans()), max_size=12
    )
)
def test_projectors_sharing_a_read_model_agree_with_the_log_through_rollbacks(turns):
    with Database.memory() as db:
        banks = [Bank(db, every=None, seed=1), Bank(db, every=None, seed=2)]
        projectors = [projector_for(bank) for bank in banks]
        banks[0].open_account("a1")
        expected = Decimal(0)
        for which, amount, rolled_back in turns:
            bank = banks[which]
            with contextlib.suppress(RuntimeError), db.transaction():
                account = bank.accounts.load("a1")
                account.deposit(Decimal(amount))
                bank.accounts.save(account)
                if rolled_back:
                    raise RuntimeError("the command changed its mind")
            expected += 0 if rolled_back else amount
        (row,) = read_model(db)
        assert row[2] == expected
        replayed = projector_for(banks[0], "replayed", inline=False)
        replayed.catch_up()
        assert read_model(db, "replayed") == read_model(db)
        head = EventLog(db, banks[0].registry).head()
        assert [p.position("bank.balances") for p in projectors] == [head, head]


def test_replaying_an_event_twice_does_not_double_count(db):
    bank = Bank(db, every=None)
    projector = projector_for(bank)
    account = bank.open_account("a1")
    account.deposit(Decimal("10"))
    bank.accounts.save(account)
    for event in list(bank.published):
        projector.handle(event)  # delivered again
    projector.catch_up()
    assert read_model(db) == [("a1", "Ada", Decimal("10.00"), False, 2)]


def test_out_of_order_delivery_catches_up_from_the_log(db):
    bank = Bank(db, every=None)
    projector = projector_for(bank, inline=False)
    projector._entries["bank.balances"].inline = True
    bank.open_account("a1")
    account = bank.accounts.load("a1")
    account.deposit(Decimal("5"))
    account.deposit(Decimal("7"))
    bank.accounts.save(account)
    first, second, third = bank.published
    projector.handle(third)  # arrives first: the projector reads 1..3 from the log
    projector.handle(second)
    projector.handle(first)
    assert read_model(db) == [("a1", "Ada", Decimal("12.00"), False, 3)]


def test_status_shows_position_and_lag(db):
    bank = Bank(db, every=None)
    projector = projector_for(bank, inline=False)
    bank.open_account("a1")
    bank.open_account("a2")
    status = projector.status()
    assert status.to_dict("records") == [
        {"projection": "bank.balances", "mode": "catch-up", "position": 0, "head": 2, "lag": 2}
    ]
    projector.catch_up()
    assert projector.status().loc[0, "lag"] == 0


scripts = st.lists(
    st.tuples(
        st.integers(0, 3),
        st.sampled_from(["deposit", "withdraw", "rename", "close", "open"]),
        st.integers(1, 50),
    ),
    max_size=40,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=scripts, batch=st.integers(1, 9))
def test_property_inline_equals_catch_up_equals_rebuild(script, batch):
    with Database.memory() as db:
        bank = Bank(db, every=3)
        projector_for(bank, "inline_view", batch=batch)
        for number, command, amount in script:
            account = bank.accounts.load_or_new(f"a{number}")
            try:
                if command == "open":
                    account.open(f"owner {amount}")
                elif command == "rename":
                    account.rename(f"name {amount}")
                elif command == "close":
                    account.close()
                else:
                    getattr(account, command)(Decimal(amount))
                bank.accounts.save(account)
            except AccountError:
                pass
        catch_up = projector_for(bank, "caught_up", inline=False, batch=batch)
        catch_up.catch_up()
        catch_up.rebuild()
        assert read_model(db, "caught_up") == read_model(db, "inline_view")


class OpenedOnly(Balances):
    """The balances read model, but reading only openings: every other event passes it by."""

    NAME = "opened"
    table_name = "opened"
    handles = frozenset({"bank.AccountOpened"})


def test_a_rolled_back_transaction_takes_its_positions_back_from_inline_projections(db):
    """A command that saves, is projected inline, then fails must not hide later events."""
    bank = Bank(db, every=None)
    projector = projector_for(bank)
    projector.add(OpenedOnly("bank"))
    bank.open_account("a1")
    with pytest.raises(RuntimeError), db.transaction():
        account = bank.accounts.load("a1")
        account.deposit(Decimal("5"))  # applied by balances, passed by opened
        bank.accounts.save(account)
        raise RuntimeError("the command changed its mind")
    assert projector.position("bank.balances") == projector.position("bank.opened") == 1
    bank.open_account("a2")  # takes position 2 again: both must see it
    account = bank.accounts.load("a1")
    account.deposit(Decimal("7"))
    bank.accounts.save(account)
    assert read_model(db) == [
        ("a1", "Ada", Decimal("7.00"), False, 2),
        ("a2", "Ada", Decimal("0.00"), False, 1),
    ]
    assert [row[0] for row in db.execute("SELECT id FROM bank.opened ORDER BY id").fetchall()] == [
        "a1",
        "a2",
    ]


def test_a_wider_window_catches_up_to_the_same_read_model(tmp_path):
    frames = []
    for window in (None, 1_000):
        bank = Bank(Database.open(tmp_path / f"w{window}.duckdb"))
        for i in range(5):
            bank.open_account(f"a{i}")
        projector = Projector(bank.database, EventLog(bank.database, bank.registry))
        projection = projector.add(Balances("read"), inline=False)
        assert projector.catch_up(window=window) == 5
        frames.append(projection.frame(bank.database.cursor()))
        bank.database.close()
    assert frames[0].equals(frames[1])


def two_projections(bank: Bank) -> Projector:
    projector = Projector(bank.database, EventLog(bank.database, bank.registry), 4)
    projector.add(Balances("first"), inline=False)
    projector.add(Balances("second"), inline=False)
    return projector


def test_catch_up_and_rebuild_touch_only_the_projections_named(db):
    bank = Bank(db, every=None)
    busy_bank_on(bank)
    head = EventLog(db, bank.registry).head()
    projector = two_projections(bank)
    assert projector.catch_up("first.balances") == head
    assert [projector.position(n) for n in ("first.balances", "second.balances")] == [head, 0]
    assert projector.rebuild(["first.balances"]) == head
    assert projector.position("second.balances") == 0
    assert db.execute("SELECT count(*) FROM second.balances").fetchone() == (0,)
    assert projector.rebuild() == 2 * head  # every projection, counted
    assert projector.catch_up(window=100) == 0


def test_a_set_based_rebuild_is_refused_naming_each_projection_without_sql(db):
    projector = two_projections(Bank(db, every=None))
    with pytest.raises(ValueError, match=r"^no set-based rebuild for: first\.balances, second\."):
        projector.rebuild(set_based=True)


def test_an_unknown_or_repeated_projection_name_is_refused_naming_what_there_is(db):
    bank = Bank(db, every=None)
    empty = Projector(db, EventLog(db, bank.registry))
    with pytest.raises(KeyError, match=r"no projection named 'nope' \(registered: none\)"):
        empty.position("nope")
    projector = two_projections(bank)
    with pytest.raises(KeyError, match=r"\(registered: first\.balances, second\.balances\)"):
        projector.catch_up(["first.balances", "nope"])
    with pytest.raises(ValueError, match=r"a projection named 'first\.balances' is already"):
        projector.add(Balances("first"))


def test_status_names_each_projections_mode(db):
    bank = Bank(db, every=None)
    projector = Projector(db, EventLog(db, bank.registry))
    projector.add(Balances("live"))
    projector.add(Balances("later"), inline=False)
    status = projector.status()
    assert list(status.columns) == ["projection", "mode", "position", "head", "lag"]
    assert status["mode"].tolist() == ["inline", "catch-up"]


def test_an_event_is_handed_on_to_every_inline_projection_behind_it(db):
    """The first projection has seen the event again delivered; the second has not."""
    bank = Bank(db, every=None)
    projector = Projector(db, EventLog(db, bank.registry))
    projector.add(Balances("ahead"))
    bank.dispatcher.subscribe(projector.handle)
    bank.open_account("a1")
    projector.add(Balances("behind"))  # starts at 0
    projector.add(Balances("elsewhere"), inline=False)
    (opened,) = bank.published
    projector.handle(opened)
    assert projector.position("behind.balances") == 1
    assert projector.position("elsewhere.balances") == 0  # not inline: left to catch-up
    unsaved = opened._replace(position=None)
    with pytest.raises(ValueError, match="has no position: only stored events are projected"):
        projector.handle(unsaved)


def test_events_a_projection_does_not_handle_still_move_it_on(db):
    bank = Bank(db, every=None)
    projector = Projector(db, EventLog(db, bank.registry))
    projector.add(OpenedOnly("bank"))
    bank.dispatcher.subscribe(projector.handle)
    bank.open_account("a1")
    for amount in (1, 2):
        account = bank.accounts.load("a1")
        account.deposit(Decimal(amount))
        bank.accounts.save(account)  # passes it by; its position still follows the log
    bank.open_account("a2")
    assert projector.position("bank.opened") == 4
    assert db.execute("SELECT id FROM bank.opened ORDER BY id").fetchall() == [("a1",), ("a2",)]


def test_a_catch_up_in_many_commits_counts_every_event_it_applied(db):
    bank = Bank(db, every=None)
    busy_bank_on(bank)
    projector = projector_for(bank, inline=False, batch=2)
    projector.commit_every = 3
    assert projector.catch_up() == EventLog(db, bank.registry).head()


def test_a_command_that_saved_twice_then_rolled_back_takes_every_position_back(db):
    """Both saves were projected inline; the rollback undoes both, so the events that take
    their positions again are seen, and each projection stands where it stood before."""
    bank = Bank(db, every=None)
    projector = projector_for(bank)
    projector.add(OpenedOnly("bank"))
    bank.open_account("a1")
    account = bank.accounts.load("a1")
    account.deposit(Decimal("1"))
    bank.accounts.save(account)  # passes the openings read model by: it moves on in memory
    with pytest.raises(RuntimeError), db.transaction():
        for amount in (5, 6):
            account = bank.accounts.load("a1")
            account.deposit(Decimal(amount))
            bank.accounts.save(account)
        raise RuntimeError("the command changed its mind")
    assert projector.status()["lag"].tolist() == [0, 0]
    bank.open_account("a2")  # position 3 again
    account = bank.accounts.load("a1")
    account.deposit(Decimal("7"))  # position 4 again
    bank.accounts.save(account)
    assert read_model(db) == [
        ("a1", "Ada", Decimal("8.00"), False, 3),
        ("a2", "Ada", Decimal("0.00"), False, 1),
    ]
    assert db.execute("SELECT id FROM bank.opened ORDER BY id").fetchall() == [("a1",), ("a2",)]


def test_one_batch_of_a_wide_window_takes_every_event_in_it(db):
    bank = Bank(db, every=None)
    busy_bank_on(bank)
    head = EventLog(db, bank.registry).head()
    projector = projector_for(bank, inline=False, batch=2)
    assert projector.catch_up(max_batches=1) == 2
    assert projector.catch_up(max_batches=1, window=head) == head - 2
    assert projector.position("bank.balances") == head


@pytest.mark.parametrize("saved_first", [False, True])
def test_a_projection_added_in_a_command_that_rolls_back_goes_with_it(db, saved_first):
    """Its tables and checkpoint row are rolled back, so is its registration; the caller
    sees the command's own error (the rollback used to fail reading the lost checkpoint)."""
    bank = Bank(db, every=None)
    projector = projector_for(bank)
    bank.open_account("a1")
    with pytest.raises(RuntimeError, match="changed its mind"), db.transaction():
        if saved_first:  # projected inline: the projector guards its positions
            account = bank.accounts.load("a1")
            account.deposit(Decimal("5"))
            bank.accounts.save(account)
        projector.add(OpenedOnly("late"))
        raise RuntimeError("the command changed its mind")
    assert projector.status()["projection"].tolist() == ["bank.balances"]
    assert projector.status()["lag"].tolist() == [0]
    projector.add(OpenedOnly("late"))  # and it can be added again, from the start
    bank.open_account("a2")  # a gap behind it: it catches up from the log
    assert db.execute("SELECT id FROM late.opened ORDER BY id").fetchall() == [("a1",), ("a2",)]


def test_a_rebuild_of_an_empty_log_leaves_its_first_event_to_a_restarted_projector(db):
    bank = Bank(db, every=None)
    projector_for(bank, inline=False).rebuild()
    bank.open_account("a1")
    restarted = projector_for(bank, inline=False)
    assert restarted.catch_up() == 1
    assert read_model(db) == [("a1", "Ada", Decimal("0.00"), False, 1)]


def test_the_status_of_no_projections_is_an_empty_table_of_the_same_columns(db):
    status = Projector(db, EventLog(db, Bank(db, every=None).registry)).status()
    assert (len(status), list(status.columns)) == (
        0,
        ["projection", "mode", "position", "head", "lag"],
    )


def test_a_projector_hands_back_its_projections_by_name_and_in_order(db):
    projector = two_projections(Bank(db, every=None))
    assert projector["second.balances"].schema == "second"
    assert [projection.name for projection in projector] == ["first.balances", "second.balances"]
