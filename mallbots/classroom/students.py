"""Processes started from a notebook: a class of students, each a Python process of its own.

Each :class:`Student` is a process of its own, as a student's kernel is, and starts
clean: forked from ``multiprocessing``'s fork server, a process that imported the shop
once for all of them and holds nothing else (Linux, macOS), or else started with
``spawn``, a new interpreter (Windows). Both are safe inside Jupyter, whose kernel runs
threads that a plain ``fork`` would copy mid-step. A student runs functions of importable
modules, one call at a time, and keeps what it opened between calls: a function that
runs there can open a shop (:func:`here`) and a later one use it. Calls are sent with
:meth:`Student.submit` (a future: several students work at once) or :meth:`Student.run`
(wait for the answer).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

TIMEOUT = 120.0
"""Seconds to wait for a student's answer before giving up."""

_here: dict[str, Any] = {}
"""What a student's process keeps between calls (its name, what it opened)."""


def here() -> dict[str, Any]:
    """In a student's process: its name (``"name"``) and whatever its calls kept there."""
    return _here


PRELOADED = ["mallbots.app", "psycopg"]
"""What the fork server imports once, so that each student starts with it imported."""


def start_method() -> multiprocessing.context.BaseContext:
    """The fork server where the platform has one (students start in a fraction of the
    time, the shop imported once), else ``spawn``."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOADED)
        return context
    return multiprocessing.get_context("spawn")


def _become(name: str) -> None:
    _here["name"] = name


def ready() -> int:
    """Import what the students' calls need, so that their first call is not slow; the pid."""
    import mallbots.app  # noqa: F401

    return os.getpid()


class Student:
    """One process of the class, named, that runs one call at a time."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._process = ProcessPoolExecutor(
            max_workers=1,
            mp_context=start_method(),
            initializer=_become,
            initargs=(name,),
        )

    def submit(self, function: Callable[..., T], *args: Any) -> Future[T]:
        """Start ``function(*args)`` in this student's process; its future result."""
        return self._process.submit(function, *args)

    def run(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)``, run in this student's process; its result (or its error)."""
        return self.submit(function, *args).result(TIMEOUT)

    def close(self, wait: bool = True) -> None:
        """End the process once its calls are done (``wait``: until it has ended)."""
        self._process.shutdown(wait=wait, cancel_futures=True)

    def __repr__(self) -> str:
        return f"Student({self.name!r})"


class Classroom:
    """Students, each in a process of their own, started together.

    The processes start in the background; calls sent to a student meanwhile wait for
    its process to be ready.
    """

    def __init__(self, names: Iterable[str]) -> None:
        self.students = {name: Student(name) for name in names}
        self._starting = [student.submit(ready) for student in self]
        """Each process's first call: the students start while the caller goes on."""

    def wait_until_ready(self) -> None:
        """Wait until every student's process has started and imported the shop."""
        for started in self._starting:
            started.result(TIMEOUT)

    @classmethod
    def of(cls, size: int) -> Classroom:
        """``size`` students named ``student-1``, ``student-2``, ..."""
        return cls(f"student-{n}" for n in range(1, size + 1))

    def __getitem__(self, name: str) -> Student:
        return self.students[name]

    def __iter__(self) -> Iterator[Student]:
        return iter(self.students.values())

    def __len__(self) -> int:
        return len(self.students)

    def run_each(self, function: Callable[..., T], *args: Any) -> dict[str, T]:
        """``function(*args)`` in every student's process at once; the results by name."""
        futures = {student.name: student.submit(function, *args) for student in self}
        return {name: future.result(TIMEOUT) for name, future in futures.items()}

    def close(self) -> None:
        """End every student's process: all told at once, then each waited for."""
        for student in self.students.values():
            student.close(wait=False)
        for student in self.students.values():
            student.close()

    def __enter__(self) -> Classroom:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Classroom({', '.join(self.students)})"
