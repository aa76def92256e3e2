"""What every codec shares: the error with its path, type inspection, generated code."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
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


SCALARS = (str, int, bool, float, Decimal, datetime, date)
"""The plain field types, each written as one JSON value."""


@dataclass(frozen=True)
class Shape:
    """What kind of field type a codec is being built for, and the types inside it.

    ``kind`` is one of: ``any``, ``scalar``, ``enum``, ``dataclass``, ``optional``
    (``inner`` holds the type that is not None), ``tuple`` (a fixed tuple: ``inner`` holds
    its types), ``sequence`` (``inner`` holds the item type; ``container`` is ``list`` or
    another sequence type) or ``mapping`` (str keys; ``inner`` holds the value type,
    ``container`` is ``dict`` or another mapping type).
    """

    kind: str
    inner: tuple[Any, ...] = ()
    container: Any = None


@cache
def shape_of(tp: Any) -> Shape:
    """The :class:`Shape` of a field type; a ``TypeError`` for one JSON cannot hold.

    The one place that knows which field types payloads may have: the encoders, the
    one-pass text encoders and the decoders all build from it.
    """
    if tp is Any:
        return Shape("any")
    if tp in SCALARS:
        return Shape("scalar")
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return Shape("enum")
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return Shape("dataclass")
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, types.UnionType) and type(None) in args:
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"unsupported union {tp}")
        return Shape("optional", (inner[0],))
    if origin in (tuple, list, Sequence):
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return Shape("tuple", args)
        return Shape("sequence", (args[0] if args else Any,), origin)
    if origin in (dict, Mapping):
        key_tp, value_tp = args if args else (str, Any)
        if key_tp is not str:
            raise TypeError(f"mapping keys must be str for JSON, not {key_tp}")
        return Shape("mapping", (value_tp,), origin)
    raise TypeError(f"unsupported payload field type {tp!r}")


def as_is(value: Any) -> Any:
    """The codec of an ``Any`` field: the value unchanged, both ways."""
    return value


def or_none(codec: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The codec of an optional field: None stays None, anything else goes to ``codec``."""
    return lambda value: None if value is None else codec(value)


def each_element(item: Callable[[Any], Any], values: Sequence[Any]) -> list[Any]:
    """``item`` of each element, in order; a refusal names the element's index."""
    out = []
    for index, element in enumerate(values):
        try:
            out.append(item(element))
        except FieldError as error:
            raise error.within(f"[{index}]") from None
    return out


def each_value(item: Callable[[Any], Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """``item`` of each value, by key; a refusal names the key."""
    out = {}
    for key, element in values.items():
        try:
            out[key] = item(element)
        except FieldError as error:
            raise error.within(f"[{key!r}]") from None
    return out


def got(value: Any) -> str:
    """``got <type> <repr>``, the repr cut short: the end of a refusal's message."""
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"got {type(value).__name__} {text}"


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
