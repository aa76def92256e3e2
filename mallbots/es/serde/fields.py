"""What every codec shares: the error with its path, type inspection, generated code."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from typing import Any, Union

Encoder = Callable[[Any], Any]
Decoder = Callable[[Any], Any]


class FieldError(ValueError):
    """A value that does not fit its declared type, with the path to it."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}" if path else problem)

    def within(self, outer: str) -> FieldError:
        """The same error seen from an enclosing field."""
        joined = (
            f"{outer}.{self.path}"
            if self.path and not self.path.startswith("[")
            else (f"{outer}{self.path}")
        )
        return FieldError(joined, self.problem)


def got(value: Any) -> str:
    """``got <type> <repr>``, the repr cut short: the end of a refusal's message."""
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"got {type(value).__name__} {text}"


def origin_of(tp: Any) -> Any:
    """``list`` for ``list[int]``, ``Union`` for ``int | None``; None for a plain type."""
    return typing.get_origin(tp)


def is_optional(tp: Any) -> bool:
    """Whether ``tp`` admits None (``X | None``, ``Optional[X]``)."""
    return origin_of(tp) in (Union, types.UnionType) and type(None) in typing.get_args(tp)


def fields_of(tp: type) -> list[tuple[str, Any, bool]]:
    """(name, type, required) for each init field of a dataclass."""
    hints = typing.get_type_hints(tp)
    out = []
    for field in dataclasses.fields(tp):
        if not field.init:
            continue
        required = (
            field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        )
        out.append((field.name, hints[field.name], required))
    return out


def compile_function(source: str, name: str, **scope: Any) -> Callable[[Any], Any]:
    """The function ``name`` defined by generated ``source``, seeing the names in ``scope``."""
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<serde {name}>", "exec"), scope, namespace)
    return namespace[name]
