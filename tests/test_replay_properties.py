"""Property: whatever commands ran, the state loaded back equals the live state."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mallbots.es import AggregateRepository, Database, EventStore
from tests.es_support import AccountError, Bank

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500"), places=2)
commands = st.lists(
    st.one_of(
        st.tuples(st.just("deposit"), amounts),
        st.tuples(st.just("withdraw"), amounts),
        st.tuples(st.just("rename"), st.text(min_size=1, max_size=12)),
        st.tuples(st.just("close"), st.none()),
        st.tuples(st.just("save"), st.none()),
    ),
    max_size=40,
)


def run(bank: Bank, script) -> object:
    """Run a script of commands, saving now and then; refused commands are skipped."""
    account = bank.accounts.new("acct")
    account.open("Ada")
    for command, argument in script:
        try:
            if command == "save":
                bank.accounts.save(account)
            elif argument is None:
                getattr(account, command)()
            else:
                getattr(account, command)(argument)
        except AccountError:
            pass
    bank.accounts.save(account)
    return account


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=commands, every=st.sampled_from([None, 1, 2, 3, 5, 10]))
def test_loaded_state_equals_live_state(script, every):
    with Database.memory() as db:
        bank = Bank(db, every=every)
        live = run(bank, script)
        loaded = bank.accounts.load("acct")
        assert loaded.state() == live.state()
        assert loaded.version == live.version
        # and straight from the events, ignoring any snapshot
        replayed = AggregateRepository(type(live), EventStore(db, bank.registry, "bank.events"))
        assert replayed.load("acct").state() == live.state()
