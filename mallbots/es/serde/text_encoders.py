"""Text encoders: a payload straight to JSON text, in one pass.

``dumps(encoder_for(tp)(value))`` builds a dict of JSON-ready values, then walks it
again in C to write the text. A save writes hundreds of payloads, a bulk load millions,
so for the usual field types a generated function writes the text in one pass, with
the same checks. Anything it does not expect (a value of another type, NaN, text that
is not ASCII, a field type it has no fast path for) raises ``_Unfit`` inside, and the
payload is written the checked way instead: the same text, or the same error.
"""

from __future__ import annotations

import dataclasses
import enum
import json.encoder as json_encoder
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from mallbots.es.serde.fields import compile_function, fields_of, shape_of


class _Unfit(Exception):
    """Inside a text encoder: leave this payload to the checked path."""


_escape = json_encoder.encode_basestring  # what the C encoder writes a str with
TextEncoder = Callable[[Any], "str | None"]


def text_encoder_for(tp: Any) -> TextEncoder:
    """``value -> dumps(encoder_for(tp)(value))`` in one pass, or None.

    None means "not on the fast path": a value it does not expect, text that is not
    ASCII, or a type with a field it has no fast path for. The caller then takes the
    checked way, ``dumps(encoder_for(tp)(value))``, which gives the text or the error.
    """
    fragment = _fragment(tp) if dataclasses.is_dataclass(tp) and isinstance(tp, type) else None
    if fragment is None:
        return _no_text

    def dump(value: Any) -> str | None:
        try:
            text = fragment(value)
        except _Unfit:
            return None
        return text if text.isascii() else None  # the checked path looks for surrogates

    return dump


def _no_text(value: Any) -> None:
    return None


def _unfit(value: Any = None) -> Any:
    raise _Unfit


def _float_fragment(value: Any) -> str:
    if type(value) is float:
        if value != value or value in (float("inf"), float("-inf")):
            raise _Unfit
        return float.__repr__(value)
    if type(value) is int:
        return int.__repr__(value)
    raise _Unfit


def _simple_enum(tp: type[enum.Enum]) -> str | None:
    """``"str"`` or ``"int"`` if every member's value is exactly that type, else None."""
    kinds = {type(member.value) for member in tp}
    if kinds == {str}:
        return "str"
    if kinds == {int}:
        return "int"
    return None


_SCALARS: dict[type, TextEncoder] = {
    str: lambda v: _escape(v) if type(v) is str else _unfit(),
    int: lambda v: int.__repr__(v) if type(v) is int else _unfit(),
    bool: lambda v: ("true" if v else "false") if type(v) is bool else _unfit(),
    float: _float_fragment,
    Decimal: lambda v: f'"{v!s}"' if type(v) is Decimal and v.is_finite() else _unfit(),
    datetime: lambda v: _escape(v.isoformat()) if isinstance(v, datetime) else _unfit(),
    date: lambda v: _escape(v.isoformat()) if type(v) is date else _unfit(),
}


@cache
def _fragment(tp: Any) -> TextEncoder | None:
    """A function writing a value of ``tp`` as JSON text, raising ``_Unfit``; or None."""
    try:
        shape = shape_of(tp)
    except TypeError:
        return None  # the checked path says what is wrong with the type
    match shape.kind:
        case "scalar":
            return _SCALARS[tp]
        case "enum":
            return _enum_fragment(tp)
        case "dataclass":
            return _dataclass_fragment(tp)
        case "optional":
            item = _fragment(shape.inner[0])
            return None if item is None else (lambda v: "null" if v is None else item(v))
        case "sequence":
            item = _fragment(shape.inner[0])
            return None if item is None else _sequence_fragment(item)
        case "mapping":
            item = _fragment(shape.inner[0])
            return None if item is None else _mapping_fragment(item)
        case _:  # Any, and fixed tuples: no fast path
            return None


def _enum_fragment(tp: type[enum.Enum]) -> TextEncoder | None:
    kind = _simple_enum(tp)
    if kind == "str":
        return lambda v: _escape(v.value) if isinstance(v, tp) else _unfit()
    if kind == "int":
        return lambda v: int.__repr__(v.value) if isinstance(v, tp) else _unfit()
    return None


def _sequence_fragment(item: TextEncoder) -> TextEncoder:
    def sequence(v: Any) -> str:
        if not isinstance(v, (tuple, list)):
            raise _Unfit
        return "[" + ",".join([item(element) for element in v]) + "]"

    return sequence


def _mapping_fragment(item: TextEncoder) -> TextEncoder:
    def mapping(v: Any) -> str:
        if not isinstance(v, Mapping):
            raise _Unfit
        parts = []
        for key, element in v.items():
            if type(key) is not str:
                raise _Unfit
            parts.append(_escape(key) + ":" + item(element))
        return "{" + ",".join(parts) + "}"

    return mapping


_INLINE_FIELDS: dict[type, Callable[[str], tuple[str, str]]] = {
    str: lambda v: (f"type({v}) is not str", f"{{escape({v})}}"),
    int: lambda v: (f"type({v}) is not int", f"{{{v}}}"),
    bool: lambda v: (f"type({v}) is not bool", f'{{"true" if {v} else "false"}}'),
    Decimal: lambda v: (f"type({v}) is not Decimal or not {v}.is_finite()", f'"{{{v}!s}}"'),
}
"""Field types a dataclass encoder writes inline: variable -> (refusal test, f-string part)."""


def _dataclass_fragment(tp: type) -> TextEncoder | None:
    """One generated function for a dataclass; simple fields are checked inline."""
    lines = ["def fragment(value):", "    if type(value) is not tp:", "        raise Unfit"]
    parts = []
    scope: dict[str, Any] = {"tp": tp, "Unfit": _Unfit, "escape": _escape, "Decimal": Decimal}
    for i, (name, ftype, _) in enumerate(fields_of(tp)):
        key = _escape(name)[1:-1].replace("{", "{{").replace("}", "}}")
        v = f"v{i}"
        lines.append(f"    {v} = value.{name}")
        inline = _INLINE_FIELDS.get(ftype)
        if inline is not None:
            check, text = inline(v)
            lines.append(f"    if {check}: raise Unfit")
            parts.append(f'"{key}":{text}')
        elif (
            isinstance(ftype, type)
            and issubclass(ftype, enum.Enum)
            and _simple_enum(ftype) == "str"
        ):
            scope[f"t{i}"] = ftype
            lines.append(f"    if not isinstance({v}, t{i}): raise Unfit")
            parts.append(f'"{key}":{{escape({v}.value)}}')
        else:
            item = _fragment(ftype)
            if item is None:
                return None
            scope[f"f{i}"] = item
            parts.append(f'"{key}":{{f{i}({v})}}')
    lines.append("    return f'{{" + ",".join(parts) + "}}'")
    return compile_function("\n".join(lines) + "\n", "fragment", **scope)
