"""What the classroom tests run in a student's process (importable, for spawn)."""

from __future__ import annotations

import os

from mallbots.classroom.students import here


def remember(value: int) -> int:
    """Keep ``value`` in this student's process; this process's id."""
    here()["value"] = value
    return os.getpid()


def recall() -> tuple[str, int]:
    """This student's name and the value an earlier call kept."""
    return here()["name"], here()["value"]


def fail() -> None:
    raise ValueError("refused in a student's process")
