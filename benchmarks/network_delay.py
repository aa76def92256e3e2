"""A network in front of a local PostgreSQL: a TCP proxy that holds every message a while.

The throwaway cluster answers over the loopback, where a round trip costs about 30 us
and the work of a statement, on the server and in Python, weighs most. A class's
server sits across a network, where each round trip costs far more: a wired LAN about
0.2-0.5 ms, Wi-Fi one to a few milliseconds. This kernel has no ``netem`` to slow the
loopback down, so :func:`delayed` puts a proxy, in a process of its own, between the
benchmark and the server: it forwards each chunk of bytes ``delay`` seconds after it
arrived, in each direction, in order (a later chunk is never sent before an earlier
one, and chunks that follow each other closely are not held twice as long).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

CHUNK = 65_536


@contextmanager
def delayed(url: str, delay: float) -> Iterator[str]:
    """``url`` (``postgresql://user@host:port/db``), reached through a proxy that delays
    each message by ``delay`` seconds each way; the proxy stops when the block ends."""
    if delay < 0:
        raise ValueError("a delay cannot be negative")
    parts = urlsplit(url)
    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    proxy = context.Process(
        target=_serve,
        args=(parts.hostname or "127.0.0.1", parts.port or 5432, delay, ready),
        daemon=True,
    )
    proxy.start()
    try:
        port = ready.get(timeout=30)
        credentials = parts.netloc.rpartition("@")[0]
        at = f"{credentials}@" if credentials else ""
        yield urlunsplit(parts._replace(netloc=f"{at}127.0.0.1:{port}"))
    finally:
        proxy.terminate()
        proxy.join(5)


def round_trip(url: str, trips: int = 200) -> float:
    """The median seconds of ``SELECT 1`` on ``url``: the round trip a statement pays."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        for _ in range(10):
            connection.execute("SELECT 1").fetchone()
        times = []
        for _ in range(trips):
            start = time.perf_counter()
            connection.execute("SELECT 1").fetchone()
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def _serve(host: str, port: int, delay: float, ready: multiprocessing.Queue) -> None:
    """The proxy's process: accept connections on a free local port (sent on ``ready``)
    and pass each one's bytes to ``host:port`` and back, each chunk held ``delay`` s."""
    listener = socket.create_server(("127.0.0.1", 0))
    ready.put(listener.getsockname()[1])
    while True:
        client, _ = listener.accept()
        server = socket.create_connection((host, port))
        for sock in (client, server):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _forward(client, server, delay)
        _forward(server, client, delay)


def _forward(source: socket.socket, target: socket.socket, delay: float) -> None:
    """Two threads: one reads ``source`` and stamps each chunk with when it is due; the
    other sends each chunk to ``target`` once due, in order."""
    due: queue.SimpleQueue[tuple[float, bytes]] = queue.SimpleQueue()

    def read() -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(CHUNK):
                due.put((time.perf_counter() + delay, chunk))
        due.put((0.0, b""))  # closed: pass the close on

    def send() -> None:
        with contextlib.suppress(OSError):
            while True:
                when, chunk = due.get()
                if not chunk:
                    break
                wait = when - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                target.sendall(chunk)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    threading.Thread(target=read, daemon=True).start()
    threading.Thread(target=send, daemon=True).start()
