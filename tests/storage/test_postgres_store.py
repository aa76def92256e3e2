"""What only a server brings: other sessions' locks, timeouts, a writer that bypasses the
counter, an unreachable server; and the throwaway cluster's own skip-or-fail rule."""

from __future__ import annotations

import pytest

from tests.postgres_support import NO_PSYCOPG

pytest.importorskip("psycopg", reason=NO_PSYCOPG)

import threading
import time
from decimal import Decimal

from mallbots import local_postgres
from mallbots.es import AggregateRepository, ConcurrencyError, EveryNEvents
from mallbots.es.event_rows import StreamAppend
from mallbots.es.postgres import (
    PostgresDatabase,
    PostgresEventStore,
    PostgresLog,
    ServerBusyError,
    ServerUnavailableError,
    SessionEndedError,
    TransactionAbortedError,
    postgres_snapshots,
)
from mallbots.es.postgres.append_statement import append_parameters, append_sql
from tests import postgres_support
from tests.es_support import Account, bank_registry
from tests.test_event_store import account_with_events


def events_of(account_id: str, deposits: int = 0):
    return account_with_events(account_id, deposits).events


def stored_count(database: PostgresDatabase) -> int:
    return database.execute("SELECT count(*) FROM bank.events").fetchone()[0]


def test_each_module_has_its_schema_and_the_log_knows_every_event_table(postgres):
    PostgresEventStore(postgres, bank_registry(), "bank.events")
    PostgresEventStore(postgres, bank_registry(), "branch.events")
    tables = postgres.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        "WHERE table_schema IN ('bank', 'branch', 'mallbots') ORDER BY 1"
    ).fetchall()
    assert [t for (t,) in tables] == [
        "bank.events",
        "branch.events",
        "mallbots.event_tables",
        "mallbots.log_position",
        "mallbots.tracked_tables",  # the read side's list of tables to copy
    ]
    with PostgresDatabase.open(postgres.url) as elsewhere:  # as another process would
        assert PostgresLog(elsewhere, bank_registry()).tables == ["bank.events", "branch.events"]


def test_a_write_waiting_on_another_sessions_transaction_gives_up_after_the_lock_timeout(
    postgres,
):
    store = PostgresEventStore(postgres, bank_registry(), "bank.events")
    with PostgresDatabase.open(postgres.url, lock_timeout=0.3) as impatient:
        other = PostgresEventStore(impatient, bank_registry(), "bank.events")
        with postgres.transaction():
            store.append("bank.Account", "a1", 0, events_of("a1", 0))  # holds the counter
            began = time.perf_counter()
            with pytest.raises(ServerBusyError, match=r"waited 0\.3 s") as caught:
                other.append("bank.Account", "a2", 0, events_of("a2", 0))
            assert time.perf_counter() - began < 3
        assert "SELECT" not in str(caught.value) and "UPDATE" not in str(caught.value)
        assert [e.position for e in other.append("bank.Account", "a2", 0, events_of("a2", 0))] == [
            2
        ]


def test_the_server_ends_a_transaction_left_idle_and_the_next_command_reconnects(
    postgres_url,
):
    with PostgresDatabase.open(postgres_url, idle_in_transaction_timeout=0.3) as database:
        store = PostgresEventStore(database, bank_registry(), "bank.events")
        with pytest.raises(SessionEndedError, match=r"idle for more than 0\.3 s"):  # noqa: SIM117
            with database.transaction():
                store.append("bank.Account", "a1", 0, events_of("a1", 0))
                time.sleep(1.0)  # a kernel stopped inside the transaction
                store.append("bank.Account", "a2", 0, events_of("a2", 0))
        assert stored_count(database) == 0
        assert [e.position for e in store.append("bank.Account", "a3", 0, events_of("a3", 0))] == [
            1
        ]


def _insert_version_one_without_the_counter(url: str, commit_after: float) -> threading.Thread:
    """Another tool's writer: takes version 1 of a1 without the log's counter."""
    import psycopg

    connection = psycopg.connect(url, autocommit=True)
    connection.execute("BEGIN")
    connection.execute(
        "INSERT INTO bank.events (position, stream_id, stream_name, stream_version, event_id, "
        "event_name, event_data, occurred_at) VALUES (1000, 'a1', 'bank.Account', 1, "
        "gen_random_uuid(), 'bank.AccountOpened', '{\"owner\":\"Bo\"}', now())"
    )

    def commit() -> None:
        time.sleep(commit_after)
        connection.execute("COMMIT")
        connection.close()

    thread = threading.Thread(target=commit)
    thread.start()
    return thread


def test_a_version_taken_by_a_writer_that_bypasses_the_counter_is_a_conflict(postgres):
    store = PostgresEventStore(postgres, bank_registry(), "bank.events")
    writer = _insert_version_one_without_the_counter(postgres.url, commit_after=0.3)
    with pytest.raises(ConcurrencyError) as caught:
        store.append("bank.Account", "a1", 0, events_of("a1", 0))  # waits on the key, then
    writer.join()
    assert (caught.value.expected, caught.value.actual) == (0, 1)
    assert stored_count(postgres) == 1


def test_inside_a_transaction_that_conflict_leaves_nothing_to_commit(postgres):
    store = PostgresEventStore(postgres, bank_registry(), "bank.events")
    writer = _insert_version_one_without_the_counter(postgres.url, commit_after=0.3)
    committed = []
    with pytest.raises(TransactionAbortedError, match="nothing of the transaction"):  # noqa: SIM117
        with postgres.transaction():
            store.append("bank.Account", "b1", 0, events_of("b1", 0))
            postgres.after_commit(lambda: committed.append(True))
            with pytest.raises(ConcurrencyError) as caught:
                store.append("bank.Account", "a1", 0, events_of("a1", 0))
            assert (caught.value.expected, caught.value.actual) == (0, 1)
    writer.join()
    assert committed == []
    assert stored_count(postgres) == 1  # the other writer's row only


def test_a_save_refused_at_the_key_writes_no_snapshot(postgres):
    """The snapshot rides in the append's statement: a primary-key refusal fails all of it."""
    events = PostgresEventStore(postgres, bank_registry(), "bank.events")
    snapshots = postgres_snapshots(postgres, bank_registry(), "bank.snapshots", EveryNEvents(1))
    accounts = AggregateRepository(Account, snapshots(events))
    account = accounts.new("a1")
    account.open("Ada")
    writer = _insert_version_one_without_the_counter(postgres.url, commit_after=0.3)
    with pytest.raises(ConcurrencyError):
        accounts.save(account)  # waits on the key, then is refused there
    writer.join()
    assert stored_count(postgres) == 1  # the other writer's row only
    assert postgres.execute("SELECT count(*) FROM bank.snapshots").fetchone()[0] == 0


def test_a_snapshot_saved_inside_a_transaction_goes_with_it(postgres):
    events = PostgresEventStore(postgres, bank_registry(), "bank.events")
    snapshots = postgres_snapshots(postgres, bank_registry(), "bank.snapshots", EveryNEvents(1))
    accounts = AggregateRepository(Account, snapshots(events))
    with pytest.raises(RuntimeError), postgres.transaction():
        account = accounts.new("a1")
        account.open("Ada")
        accounts.save(account)
        assert postgres.execute("SELECT count(*) FROM bank.snapshots").fetchone()[0] == 1
        raise RuntimeError("the command failed")
    assert stored_count(postgres) == 0
    assert postgres.execute("SELECT count(*) FROM bank.snapshots").fetchone()[0] == 0
    account = accounts.new("a1")
    account.open("Ada")
    accounts.save(account)
    row = postgres.execute("SELECT stream_version, snapshot_name FROM bank.snapshots").fetchone()
    assert row == (1, "bank.AccountV1")


def test_an_unreachable_server_is_named_without_its_password():
    url = f"postgresql://ada:secret@127.0.0.1:{postgres_support.free_port()}/mall"
    with pytest.raises(ServerUnavailableError) as caught:
        PostgresDatabase.open(url)
    message = str(caught.value)
    assert "postgresql://ada:***@127.0.0.1" in message and "secret" not in message
    assert "Check that the server runs" in message


def test_timeouts_must_be_positive():
    with pytest.raises(ValueError, match="must be positive"):
        PostgresDatabase("postgresql://127.0.0.1/none", lock_timeout=0)


def test_missing_postgres_skips_unless_required(monkeypatch):
    monkeypatch.delenv(postgres_support.REQUIRE, raising=False)
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL tests skipped: no server"):
        postgres_support.skip_or_fail("no server")
    monkeypatch.setenv(postgres_support.REQUIRE, "1")
    with pytest.raises(pytest.fail.Exception, match="MALLBOTS_REQUIRE_POSTGRES=1 but"):
        postgres_support.skip_or_fail("no server")


def test_missing_names_what_is_missing(monkeypatch):
    monkeypatch.setattr(local_postgres, "BINARY_FOLDERS", "/nonexistent/*/bin")
    monkeypatch.setenv("PATH", "/nonexistent")
    assert local_postgres.missing() == (
        "PostgreSQL's server binaries are not installed (apt-get install postgresql)"
    )


def test_a_stream_id_postgresql_cannot_hold_is_refused_before_anything_is_sent(postgres):
    store = PostgresEventStore(postgres, bank_registry(), "bank.events")
    with postgres.transaction():
        with pytest.raises(ValueError, match=r"stream id 'a\\x00b' holds a NUL character"):
            store.append("bank.Account", "a\x00b", 0, events_of("a\x00b"))
        with pytest.raises(ValueError, match="NUL character"):
            store.load_stream("bank.Account", "a\x00b")
        stored = store.append("bank.Account", "a1", 0, events_of("a1"))
    assert [e.position for e in stored] == [1]


def test_a_finished_threads_connection_is_closed_when_another_thread_connects(postgres):
    def read_head() -> None:
        PostgresLog(postgres, bank_registry()).head()

    threads = [threading.Thread(target=read_head) for _ in range(3)]
    for thread in threads:
        thread.start()
        thread.join()
    sessions = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    deadline = time.monotonic() + 5  # a closed session's server process exits soon after
    while postgres.execute(sessions).fetchone()[0] > 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert postgres.execute(sessions).fetchone()[0] == 2  # this thread's and the last one's


def test_an_append_that_waited_for_an_archive_sees_its_stream_gone_and_is_refused(postgres):
    """Another session appends to a stream while it is archived: the append waits for the
    archive's lock on the hot table, then reads the head afresh and is refused as a
    conflict, as on DuckDB; no event lands beside a stream that left the table."""
    store = PostgresEventStore(postgres, bank_registry(), "bank.events")
    store.save(account_with_events("a", 2))
    outcome: list = []
    with PostgresDatabase.open(postgres.url) as other:
        theirs = PostgresEventStore(other, bank_registry(), "bank.events")

        def append_version_four() -> None:
            try:
                theirs.append("bank.Account", "a", 3, events_of("a", 3)[3:])
                outcome.append("appended")
            except ConcurrencyError as error:
                outcome.append((error.expected, error.actual))

        with postgres.transaction():
            assert store.archive([("bank.Account", "a")]) == 3
            appender = threading.Thread(target=append_version_four)
            appender.start()
            postgres_support.wait_until_a_session_waits_for_a_lock(
                postgres.url, "the append", timeout=10
            )
        appender.join(10)
    assert outcome == [(3, 0)]
    assert stored_count(postgres) == 0
    assert postgres.execute("SELECT count(*) FROM bank.events_archive").fetchone() == (3,)
    assert postgres.last_position == 3  # the refused append gave its position back


def test_only_snapshot_stores_a_read_side_copies_are_tracked(postgres):
    """A shop's snapshot stores note each write for its read side; a bare store does not
    pay for that trigger."""
    from mallbots.es.postgres.changes import TRACKED_TABLES
    from mallbots.es.postgres.storage import PostgresStorage

    registry = bank_registry()
    events = PostgresEventStore(postgres, registry, "bank.events")
    postgres_snapshots(postgres, registry, "bank.snapshots")(events)
    PostgresStorage(postgres).snapshot_store(events, registry, "shop.snapshots", EveryNEvents(3))

    def tracked() -> set[str]:
        return {name for (name,) in postgres.execute(f"SELECT name FROM {TRACKED_TABLES}")}

    assert tracked() == {"shop.snapshots"}
    postgres_snapshots(postgres, registry, "bank.snapshots", tracked=True)(events)
    assert tracked() == {"shop.snapshots", "bank.snapshots"}  # tracked once asked


def _buffers(plan: dict) -> int:
    """The shared buffers a plan node and its children touched."""
    return plan.get("Shared Hit Blocks", 0) + plan.get("Shared Read Blocks", 0)


def test_a_stream_s_head_is_read_from_one_index_entry_however_long_the_stream(postgres):
    # On a table just created, PostgreSQL has no statistics, and for max(stream_version)
    # it chose to read every entry of the stream: the append and the cache's check grew
    # slower with each event.
    store = PostgresEventStore(postgres, bank_registry(), "bank.events")
    store.save(account_with_events("a1", 400))
    explain = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "
    head_sql = store._select_head
    (plan,) = postgres.execute(explain + head_sql, ["a1", "bank.Account"]).fetchone()[0]
    assert _buffers(plan["Plan"]) <= 4

    account = AggregateRepository(Account, store).load("a1")
    account.deposit(Decimal("1"))
    rows = store.prepare([StreamAppend("bank.Account", "a1", 401, account.events, "a1")]).rows
    connection = postgres.connection()
    with connection.transaction(force_rollback=True):  # the append as the store sends it
        (plan,) = connection.execute(
            explain + append_sql(store.table, 1, 1),
            append_parameters([("bank.Account", "a1", 401)], rows),
        ).fetchone()[0]
    assert _buffers(plan["Plan"]) <= 40  # the head, the counter, the row and its indexes
    assert store.stream_version("bank.Account", "a1") == 401  # rolled back
