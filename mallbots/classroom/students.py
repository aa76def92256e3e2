"""Processes started from a notebook: a class of students, each a Python process of its own.

Each :class:`Student` is one process, started with ``spawn`` (a fresh interpreter, as a
student's kernel is, and the one way that works the same inside Jupyter, on Linux, macOS
and Windows). It runs functions of importable modules, one call at a time, and keeps
what it opened between calls: a function that runs there can open a shop
(:func:`here`) and a later one use it. Calls are sent with :meth:`Student.submit` (a
future: several students work at once) or :meth:`Student.run` (wait for the answer).
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
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_become,
            initargs=(name,),
        )

    def submit(self, function: Callable[..., T], *args: Any) -> Future[T]:
        """Start ``function(*args)`` in this student's process; its future result."""
        return self._process.submit(function, *args)

    def run(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)``, run in this student's process; its result (or its error)."""
        return self.submit(function, *args).result(TIMEOUT)

    def close(self) -> None:
        """End the process once its calls are done."""
        self._process.shutdown(wait=True, cancel_futures=True)

    def __repr__(self) -> str:
        return f"Student({self.name!r})"


class Classroom:
    """Students, each in a process of their own, started together and ready to work."""

    def __init__(self, names: Iterable[str]) -> None:
        self.students = {name: Student(name) for name in names}
        try:
            pids = [student.submit(ready) for student in self]
            for pid in pids:
                pid.result(TIMEOUT)
        except BaseException:
            self.close()
            raise

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
        """End every student's process."""
        for student in self.students.values():
            student.close()

    def __enter__(self) -> Classroom:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Classroom({', '.join(self.students)})"
