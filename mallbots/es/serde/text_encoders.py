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
import typing
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from mallbots.es.serde.fields import compile_function, fields_of, is_optional, origin_of


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


@cache
def _fragment(tp: Any) -> TextEncoder | None:
    """A function writing a value of ``tp`` as JSON text, raising ``_Unfit``; or None."""
    if tp is str:
        return lambda v: _escape(v) if type(v) is str else _unfit()
    if tp is int:
        return lambda v: int.__repr__(v) if type(v) is int else _unfit()
    if tp is bool:
        return lambda v: ("true" if v else "false") if type(v) is bool else _unfit()
    if tp is float:
        return _float_fragment
    if tp is Decimal:
        return lambda v: f'"{v!s}"' if type(v) is Decimal and v.is_finite() else _unfit()
    if tp is datetime:
        return lambda v: _escape(v.isoformat()) if isinstance(v, datetime) else _unfit()
    if tp is date:
        return lambda v: _escape(v.isoformat()) if type(v) is date else _unfit()
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        kind = _simple_enum(tp)
        if kind == "str":
            return lambda v: _escape(v.value) if isinstance(v, tp) else _unfit()
        if kind == "int":
            return lambda v: int.__repr__(v.value) if isinstance(v, tp) else _unfit()
        return None
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _dataclass_fragment(tp)
    origin, args = origin_of(tp), typing.get_args(tp)
    if is_optional(tp):
        inner = [a for a in args if a is not type(None)]
        item = _fragment(inner[0]) if len(inner) == 1 else None
        if item is None:
            return None
        return lambda v: "null" if v is None else item(v)
    if origin in (tuple, list, Sequence) or origin is typing.Sequence:
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return None
        item = _fragment(args[0]) if args else None
        if item is None:
            return None

        def sequence(v: Any) -> str:
            if not isinstance(v, (tuple, list)):
                raise _Unfit
            return "[" + ",".join([item(element) for element in v]) + "]"

        return sequence
    if origin in (dict, Mapping) or origin is typing.Mapping:
        key_tp, value_tp = args if args else (str, Any)
        item = _fragment(value_tp) if key_tp is str else None
        if item is None:
            return None

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
    return None


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
