"""A property of every backend: whatever mix of appends and stale or early ones, the log
holds exactly the accepted events, gap-free and in the order they were accepted."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mallbots.es import ConcurrencyError
from tests.es_support import bank_registry
from tests.test_event_store import account_with_events

steps = st.lists(
    st.tuples(st.integers(0, 2), st.integers(1, 3), st.sampled_from([0, 0, 0, -1, 1])),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps)
def test_the_log_holds_exactly_the_accepted_appends_in_order(backend, steps):
    registry = bank_registry()
    table = f"p{uuid.uuid4().hex[:8]}.events"
    store = backend.event_store(registry, table)
    base = backend.database.last_position
    heads = [0, 0, 0]
    accepted = []
    for stream, count, skew in steps:
        expected = heads[stream] + skew
        if expected < 0:
            continue
        stream_id = f"a{stream}"
        events = account_with_events(stream_id, expected + count - 1).events[expected:]
        if skew:
            with pytest.raises(ConcurrencyError):
                store.append("bank.Account", stream_id, expected, events)
            continue
        stored = store.append("bank.Account", stream_id, expected, events)
        accepted += [(e.aggregate_id, e.aggregate_version, e.id) for e in stored]
        heads[stream] += count
    log = [e for batch in backend.log(registry, [table]).batches(base) for e in batch]
    assert [(e.aggregate_id, e.aggregate_version, e.id) for e in log] == accepted
    assert [e.position for e in log] == list(range(base + 1, base + len(accepted) + 1))
    for stream, head in enumerate(heads):
        versions = [e.aggregate_version for e in store.load_stream("bank.Account", f"a{stream}")]
        assert versions == list(range(1, head + 1))
