"""Checks for the notebooks' exercises: feedback a student can act on.

Each exercise in a notebook is a pair of cells in nbgrader's markup: a solution cell,
whose answer sits between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` inside a
function, and a graded check cell that calls that function through an
:class:`Exercise`. In a student copy nbgrader replaces the answer with
``raise NotImplementedError()``; :meth:`Exercise.call` turns that into a message that
says what to write, and every failed check names the exercise and gives a hint rather
than the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


class ExerciseFailed(AssertionError):
    """An exercise's check failed; the message says what to change."""


@dataclass(frozen=True)
class Exercise:
    """The checks of one exercise, named as the notebook names it (``"Exercise 1.2"``)."""

    name: str

    def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``function(*args, **kwargs)``, or a clear word that it is not written yet."""
        try:
            return function(*args, **kwargs)
        except NotImplementedError:
            raise ExerciseFailed(
                f"{self.name} is not answered yet: write the body of "
                f"{function.__name__}() in the cell above (where it says YOUR CODE HERE), "
                "run that cell, then run this one again."
            ) from None

    def expect(self, condition: bool, hint: str) -> None:
        """Fail with ``hint`` unless ``condition`` holds."""
        if not condition:
            raise ExerciseFailed(f"{self.name}: not yet. {hint}")

    def equal(self, actual: object, expected: object, what: str, hint: str) -> None:
        """Fail, showing what ``what`` gave (never the answer), unless it equals ``expected``."""
        if actual != expected:
            raise ExerciseFailed(f"{self.name}: {what} gave {actual!r}, which is not it. {hint}")

    def done(self) -> None:
        """Say that every check of this exercise passed."""
        print(f"{self.name}: correct, well done.")
