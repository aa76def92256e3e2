"""MallBots on PostgreSQL beside ``eventsourcing``'s PostgreSQL persistence, on one server.

    python benchmarks/postgres_vs_eventsourcing.py             # full sizes, 9 rounds
    python benchmarks/postgres_vs_eventsourcing.py --quick     # small sizes, 3 rounds
    python benchmarks/postgres_vs_eventsourcing.py --durable   # on a durable cluster
    python benchmarks/postgres_vs_eventsourcing.py --both      # both clusters, two tables
    python benchmarks/postgres_vs_eventsourcing.py --delay 0.25   # as across a LAN
    python benchmarks/postgres_vs_eventsourcing.py --url postgresql://user@host/db

``benchmarks/run.py`` runs it after the DuckDB table. The same workloads as there, at
the same sizes, on :class:`mallbots.es.postgres.PostgresEventStore` (the ``url``
variants in :mod:`benchmarks.mallbots_side`) and on the library's
``eventsourcing.postgres`` module (:mod:`benchmarks.peer_side`), each workload and side
in a fresh database of the same server: a throwaway cluster
(:func:`mallbots.local_postgres.throwaway_cluster`) unless ``--url`` names one, on which
scratch databases are created and dropped. Beside the single appends and commands the
run times bare psycopg one-row INSERTs into a table like ours, autocommitted and in a
transaction (:mod:`benchmarks.postgres_floor`): the issue asks those workloads for 0.8
of it, and the others for 1.0x the peer or better.

The throwaway cluster runs in one of two settings. By default nothing is flushed
(fsync, synchronous commit and full-page writes off), so a commit costs a round trip
and MallBots' own work weighs most against the bare INSERT: the worst case for that
ratio. ``--durable`` starts it with all three on, as a class's server runs, where
every commit waits for its flush to disk; only the workloads measured against the
INSERT are run there (:data:`DURABLE_KEYS`, at :data:`DURABLE_SIZES`, since a durable
commit takes milliseconds). ``--both`` prints both tables; ``benchmarks/run.py`` does.

Both clusters answer over the loopback, where a round trip costs tens of microseconds.
``--delay MS`` runs the same floored workloads through a proxy that holds each message
``MS`` milliseconds each way (:mod:`benchmarks.network_delay`), as a server across a
network would; ``benchmarks/run.py`` adds a table at :data:`LAN_DELAY`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import mallbots_side, postgres_floor, report, runner
from benchmarks.network_delay import delayed, round_trip
from benchmarks.postgres_server import server_url
from benchmarks.workloads import Target, Workload, by_key
from mallbots.local_postgres import missing, scratch_database

AT_LEAST_THE_PEER = Target(">=", 1)
FLOOR_NOTE = (
    "Against bare psycopg one-row INSERTs, each committed, into a table like ours on "
    "the same server (P1, P5, P5c, P5k, P5s): autocommitted (one round trip), and in psycopg's "
    "default transaction, execute then commit() (BEGIN, INSERT, COMMIT)"
)

CEILING_NOTE = (
    "The most a command that reads before it writes can reach on this server: a bare "
    "command, its two statements in psycopg with nothing between them (read the "
    "stream's last three events; insert the next, its position claimed from the log's "
    "counter, autocommitted). No decoding, aggregate or concurrency check"
)


def _like(key: str, title: str, /, **changes) -> Workload:
    """The DuckDB run's (first) workload ``key`` under a PostgreSQL title: the same sizes
    (``changes`` override fields, a new key among them)."""
    workload = by_key([key])[0]
    fields = {**workload.__dict__, "title": title, "target": None, **changes}
    return Workload(**fields)


WORKLOADS: list[Workload] = [
    _like("append_one", "P1. append one event to a new stream, one call at a time"),
    _like(
        "append_threads",
        "P2. 60 appends of 500 events to new streams, 4 threads",
        peer_target=AT_LEAST_THE_PEER,
    ),
    _like(
        "read_log",
        "P3. read the whole log in pages of 1,000 (decoded events)",
        peer_target=AT_LEAST_THE_PEER,
    ),
    _like(
        "load_no_snapshot",
        "P4. load a 10,000-event aggregate, no snapshot",
        peer_target=AT_LEAST_THE_PEER,
    ),
    _like("commands", "P5. load, change, save a small aggregate, repeatedly"),
    _like(
        "commands_cached",
        "P5c. load, change, save a small aggregate, with each side's aggregate cache",
    ),
    _like(
        "commands_cached",
        "P5k. P5c with each hit checked first (load and save called apart, not update)",
        key="commands_cached_checked",
        peer_target=None,
        notes=(
            "MallBots only: a load through the cache asks the stream's head before it "
            "hands out its copy; update (P5c) leaves that to the save.",
        ),
    ),
    _like(
        "commands",
        "P5s. load, change, save a small aggregate, a snapshot every 3 events",
        key="commands_snapshots",
        notes=("MallBots only: the shop's default strategy, EveryNEvents(3).",),
    ),
    _like(
        "catalog_rebuild",
        "P7. rebuild the catalog from 100,000 events (MallBots: a DuckDB read model)",
        peer_target=AT_LEAST_THE_PEER,
    ),
]
"""The PostgreSQL workloads, in order: the DuckDB run's rows with the same keys, and
commands with snapshots (MallBots only)."""
DURABLE_KEYS = [w.key for w in WORKLOADS if w.against_floor]
"""The workloads run on a durable cluster or through a delay: those the issue measures
against the INSERT."""
LAN_DELAY = 0.25
"""Milliseconds each way of the delayed table in ``benchmarks/run.py``: a round trip of
about 0.7 ms with the proxy's own work, as on a wired LAN."""
DURABLE_SIZES = {
    "append_one": {"appends": 300},
    "commands": {"aggregates": 100, "commands": 200},
    "commands_cached": {"aggregates": 100, "commands": 200},
    "commands_cached_checked": {"aggregates": 100, "commands": 200},
    "commands_snapshots": {"aggregates": 100, "commands": 200},
}
"""Fewer calls a round on a durable cluster, where each commit waits for a disk flush,
and through a delay, where each round trip waits for it."""


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], parents=[runner.options(keys())]
    )
    parser.add_argument("--url", help="a PostgreSQL server (default: a throwaway cluster)")
    durability = parser.add_mutually_exclusive_group()
    durability.add_argument(
        "--durable",
        action="store_true",
        help="a durable throwaway cluster (fsync, synchronous commit, full-page writes on)",
    )
    durability.add_argument("--both", action="store_true", help="both clusters, two tables")
    parser.add_argument(
        "--delay",
        type=float,
        metavar="MS",
        help="through a proxy holding each message MS milliseconds each way (floored rows)",
    )
    return parser.parse_args(argv)


def keys() -> list[str]:
    return [w.key for w in WORKLOADS]


def run(
    url: str | None,
    rounds: int,
    *,
    quick: bool = False,
    keys: list[str] | None = None,
    with_peer: bool = True,
    durable: bool = False,
    delay: float | None = None,
) -> list[report.Result]:
    """Measure the workloads named by ``keys`` (all by default) on the server at ``url``,
    or on a throwaway cluster (``durable``: flushing every commit, and only the
    :data:`DURABLE_KEYS`); ``delay``: through a proxy holding each message that many
    milliseconds each way (only the :data:`DURABLE_KEYS` too). Print the table; nothing
    if no server can be had."""
    slow = (durable and url is None) or delay is not None
    workloads = [
        w for w in WORKLOADS if (not keys or w.key in keys) and (not slow or w.key in DURABLE_KEYS)
    ]
    if not workloads:
        return []
    setting = "a durable cluster" if durable else "a cluster that flushes nothing"
    where = "the server given" if url is not None else f"a throwaway cluster, {setting}"
    if delay is not None:
        where += f", each message held {delay:g} ms each way"
    print(
        f"\nMallBots on PostgreSQL beside eventsourcing on PostgreSQL ({where}), {rounds} rounds\n"
    )
    if url is None and (reason := missing()) is not None:
        print(f"The PostgreSQL comparison is skipped: {reason}; or give --url.", flush=True)
        return []
    sizes = DURABLE_SIZES if slow and not quick else {}
    with server_url(url, durable=durable) as server:
        if delay is None:
            return _run_on(server, workloads, rounds, quick, with_peer, sizes)
        with delayed(server, delay / 1000) as through:
            trip = round_trip(through) * 1000
            print(f"A round trip (SELECT 1) through the delay takes {trip:.2f} ms", flush=True)
            return _run_on(through, workloads, rounds, quick, with_peer, sizes)


def _run_on(
    url: str,
    workloads: list[Workload],
    rounds: int,
    quick: bool,
    with_peer: bool,
    sizes: dict[str, dict] | None = None,
) -> list[report.Result]:
    import psycopg

    with psycopg.connect(url) as connection:
        (version,) = connection.execute("SHOW server_version").fetchone()
        settings = {
            name: connection.execute(f"SHOW {name}").fetchone()[0]
            for name in ("fsync", "synchronous_commit", "full_page_writes")
        }
    shown = ", ".join(f"{name}={value}" for name, value in settings.items())
    print(f"PostgreSQL {version} ({shown}), psycopg {psycopg.__version__}", flush=True)
    sides = [mallbots_side]
    if with_peer:
        from benchmarks import peer_side

        sides.append(peer_side)
    floors = postgres_floor.FLOORS
    results = runner.measure_all(
        workloads,
        sides,
        [*floors, postgres_floor.BARE_COMMAND],
        rounds,
        quick=quick,
        sizes=sizes,
        given=lambda stack: {"url": stack.enter_context(scratch_database(url, "bench"))},
    )
    names = [side.NAME for side in sides]
    print()
    floor_names = [floor.NAME for floor in floors]
    print(report.tables(results, names, floor_names, quick=quick, floor_note=FLOOR_NOTE))
    bound = report.ceiling_table(
        results, names[0], postgres_floor.BARE_COMMAND.NAME, postgres_floor.TRANSACTION.NAME
    )
    if bound:
        print(f"\n{CEILING_NOTE}:\n\n{bound}")
    return results


def main(argv: list[str] | None = None) -> list[report.Result]:
    args = parse(argv)
    rounds = runner.rounds(args)
    print("\n".join(report.machine()))
    settings = [False, True] if args.both else [args.durable]
    results = []
    for durable in settings:
        results += run(
            args.url,
            rounds,
            quick=args.quick,
            keys=args.only,
            with_peer=not args.mallbots_only,
            durable=durable,
            delay=args.delay,
        )
    return results


if __name__ == "__main__":
    main()
