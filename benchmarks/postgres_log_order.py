"""Why the PostgreSQL log takes positions from a counter: a tailing reader, measured.

Writer processes append events while a reader follows ``position > checkpoint``, once
with the store's one-row counter and once with a plain ``bigserial``; the race itself
is :mod:`mallbots.classroom.race` (notebook 10 runs it too), which explains it. This
script runs it a few times and prints how many events the reader skipped.

Run ``python benchmarks/postgres_log_order.py`` (a throwaway cluster is started where
PostgreSQL's binaries are installed) or pass ``--url postgresql://...``.
"""

from __future__ import annotations

import argparse

from benchmarks.postgres_server import server_url
from mallbots.classroom import Classroom
from mallbots.classroom.race import KINDS, race


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a PostgreSQL server (default: a throwaway cluster)")
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--events", type=int, default=1000, help="in all, over the writers")
    parser.add_argument("--pause", type=float, default=0.0005, help="seconds before commit")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    with server_url(args.url) as url:
        _report(url, args)


def _report(url: str, args: argparse.Namespace) -> None:
    print(f"{args.writers} writers, {args.events} events, {args.pause * 1000:g} ms before commit")
    print(f"{'kind':<10} {'skipped':>8} {'lost':>5} {'1..N':>5} {'seconds':>8}")
    with Classroom.of(args.writers) as writers:
        for _ in range(args.runs):
            for kind in KINDS:
                result = race(url, kind, writers, args.events // args.writers, args.pause)
                print(
                    f"{kind:<10} {result.skipped:>8} {result.lost:>5} "
                    f"{'yes' if result.positions_are_1_to_n else 'no':>5} "
                    f"{result.seconds:>8.2f}"
                )


if __name__ == "__main__":
    main()
