"""Typed JSON serde: frozen dataclasses to JSON-ready values and back, with checking.

A codec is compiled once per type from its type hints and then reused for every event,
so a long stream decodes quickly. Both directions check types: a payload that does not
fit its declared type fails when it is written, not months later when it is read.

Money is exact: a ``Decimal`` is written as a JSON string (``"9.99"``) and read back
unchanged. JSON numbers are parsed as ``Decimal`` too, so an old event that stored a
price as a number still reads back exactly what was written.

What cannot read back equal is refused when written, with the path to it: NaN and
infinite floats and Decimals (NaN never equals itself), and strings holding a lone
surrogate (not Unicode text; DuckDB cannot store them).
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import json
import json.encoder as json_encoder
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
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


_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
# JSONEncoder.encode builds a C encoder on every call; an event save encodes hundreds
# of small payloads, so one is built here and reused (it keeps no state between calls:
# no circular-reference markers, which JSON-ready values from the encoders never need).
_c_encode = (
    json_encoder.c_make_encoder(
        None, _JSON.default, json_encoder.encode_basestring, None, ":", ",", False, False, False
    )
    if json_encoder.c_make_encoder is not None
    else None
)


def dumps(value: Any) -> str:
    """Compact, strict JSON text.

    NaN and infinity are refused (they are not JSON), and so is a string holding a
    lone surrogate (``"\\ud800"``): it is not Unicode text, and no database stores it.
    """
    text = None
    if _c_encode is not None:
        with contextlib.suppress(RecursionError):  # let the checked encoder report it
            text = "".join(_c_encode(value, 0))
    if text is None:
        text = _JSON.encode(value)
    if not text.isascii():
        check_text(text, lambda: _surrogate_path(value))
    return text


def loads(text: str | bytes) -> Any:
    """Parse JSON text, reading every non-integer number as an exact ``Decimal``."""
    return json.loads(text, parse_float=Decimal)


def check_text(text: str, where: str | Callable[[], str] = "") -> str:
    """``text`` if it is valid Unicode (no lone surrogate), else a ``ValueError`` saying where."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        place = where() if callable(where) else where
        raise FieldError(
            place,
            f"holds a lone surrogate {text[error.start]!r}, which is not valid Unicode "
            "text and cannot be stored",
        ) from None
    return text


def _surrogate_path(value: Any, path: str = "") -> str:
    """The path of the first string (or key) in a JSON value that holds a lone surrogate."""
    if isinstance(value, str):
        return path if not _encodes(value) else ""
    if isinstance(value, dict):
        for key, element in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and not _encodes(key):
                return f"{inner} (the key)"
            found = _surrogate_path(element, inner)
            if found:
                return found
    if isinstance(value, (list, tuple)):
        for index, element in enumerate(value):
            found = _surrogate_path(element, f"{path}[{index}]")
            if found:
                return found
    return ""


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def dumps_metadata(value: Mapping[str, Any]) -> str:
    """Event metadata as JSON text; it must be plain JSON, so that it reads back equal.

    Keys are strings; values are strings, integers, finite floats, booleans, None, lists
    and string-keyed dicts of those. Anything else (a tuple, a Decimal, a date) would
    read back as something else, so it is refused with the path to it.
    """
    value = dict(value)
    _check_plain_json(value, "")
    return dumps(value)


def loads_metadata(text: str | bytes) -> Any:
    """Parse metadata JSON text (floats stay floats: metadata is plain JSON)."""
    return json.loads(text)


def _check_plain_json(value: Any, path: str) -> None:
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return
    if kind is float:
        if value != value or value in (float("inf"), float("-inf")):
            raise FieldError(path, f"{value!r} is not a JSON number")
        return
    if kind is list:
        for index, element in enumerate(value):
            _check_plain_json(element, f"{path}[{index}]")
        return
    if kind is dict:
        for key, element in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if type(key) is not str:
                raise FieldError(inner, f"keys must be strings, {_got(key)}")
            _check_plain_json(element, inner)
        return
    raise FieldError(
        path, f"{_got(value)}: only strings, numbers, booleans, None, lists and dicts read back"
    )


def encoder_for(tp: Any) -> Encoder:
    """The encoder of ``tp``: value -> JSON-ready value, raising :class:`FieldError`."""
    return _encoder(tp)


def decoder_for(tp: Any) -> Decoder:
    """The decoder of ``tp``: JSON value -> value, raising :class:`FieldError`."""
    return _decoder(tp)


def _got(value: Any) -> str:
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"got {type(value).__name__} {text}"


def _origin(tp: Any) -> Any:
    return typing.get_origin(tp)


def _is_optional(tp: Any) -> bool:
    return _origin(tp) in (Union, types.UnionType) and type(None) in typing.get_args(tp)


# --- encoders -------------------------------------------------------------------------


@cache
def _encoder(tp: Any) -> Encoder:
    if tp is Any:
        return _encode_any
    if tp is str or tp is int or tp is bool:
        return _exact_type_encoder(tp)
    if tp is float:
        return _encode_float
    if tp is Decimal:
        return _encode_decimal
    if tp is datetime:
        return _encode_datetime
    if tp is date:
        return _encode_date
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum_encoder(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _dataclass_encoder(tp)
    origin, args = _origin(tp), typing.get_args(tp)
    if _is_optional(tp):
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"unsupported union {tp}")
        enc = _encoder(inner[0])
        return lambda v: None if v is None else enc(v)
    if origin in (tuple, list, Sequence) or origin is typing.Sequence:
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return _fixed_tuple_encoder(tuple(_encoder(a) for a in args))
        item = _encoder(args[0] if args else Any)
        return _sequence_encoder(item)
    if origin in (dict, Mapping) or origin is typing.Mapping:
        key_tp, value_tp = args if args else (str, Any)
        if key_tp is not str:
            raise TypeError(f"mapping keys must be str for JSON, not {key_tp}")
        return _mapping_encoder(_encoder(value_tp))
    raise TypeError(f"unsupported payload field type {tp!r}")


def _encode_any(value: Any) -> Any:
    return value


def _exact_type_encoder(tp: type) -> Encoder:
    def encode(value: Any) -> Any:
        if type(value) is not tp:
            raise FieldError("", f"expected {tp.__name__}, {_got(value)}")
        return value

    return encode


def _encode_float(value: Any) -> Any:
    if type(value) is float or type(value) is int:
        return value
    raise FieldError("", f"expected float, {_got(value)}")


def _encode_decimal(value: Any) -> Any:
    if type(value) is not Decimal:
        raise FieldError("", f"expected Decimal, {_got(value)}")
    if not value.is_finite():  # NaN never equals itself: no amount of money is NaN
        raise FieldError("", f"expected a finite Decimal, {_got(value)}")
    return str(value)


def _encode_datetime(value: Any) -> Any:
    if not isinstance(value, datetime):
        raise FieldError("", f"expected datetime, {_got(value)}")
    return value.isoformat()


def _encode_date(value: Any) -> Any:
    if type(value) is not date:
        raise FieldError("", f"expected date, {_got(value)}")
    return value.isoformat()


def _enum_encoder(tp: type[enum.Enum]) -> Encoder:
    def encode(value: Any) -> Any:
        if not isinstance(value, tp):
            raise FieldError("", f"expected {tp.__name__}, {_got(value)}")
        return value.value

    return encode


def _sequence_encoder(item: Encoder) -> Encoder:
    def encode(value: Any) -> Any:
        if not isinstance(value, (tuple, list)):
            raise FieldError("", f"expected a sequence, {_got(value)}")
        out = []
        for index, element in enumerate(value):
            try:
                out.append(item(element))
            except FieldError as error:
                raise error.within(f"[{index}]") from None
        return out

    return encode


def _fixed_tuple_encoder(items: tuple[Encoder, ...]) -> Encoder:
    def encode(value: Any) -> Any:
        if not isinstance(value, (tuple, list)) or len(value) != len(items):
            raise FieldError("", f"expected a tuple of {len(items)}, {_got(value)}")
        return [enc(v) for enc, v in zip(items, value, strict=True)]

    return encode


def _mapping_encoder(item: Encoder) -> Encoder:
    def encode(value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise FieldError("", f"expected a mapping, {_got(value)}")
        out = {}
        for key, element in value.items():
            if type(key) is not str:
                raise FieldError("", f"mapping keys must be str, {_got(key)}")
            try:
                out[key] = item(element)
            except FieldError as error:
                raise error.within(f"[{key!r}]") from None
        return out

    return encode


def _fields_of(tp: type) -> list[tuple[str, Any, bool]]:
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


def _dataclass_encoder(tp: type) -> Encoder:
    plan = [(name, _encoder(ftype)) for name, ftype, _ in _fields_of(tp)]

    def encode_checked(value: Any) -> Any:
        if type(value) is not tp:
            raise FieldError("", f"expected {tp.__name__}, {_got(value)}")
        out = {}
        for name, enc in plan:
            try:
                out[name] = enc(getattr(value, name))
            except FieldError as error:
                raise error.within(name) from None
        return out

    # The fast path is one generated expression; any refusal reruns the checked loop
    # above, which names the field at fault.
    items = ", ".join(f"{name!r}: e{i}(value.{name})" for i, (name, _) in enumerate(plan))
    source = (
        "def encode(value):\n"
        "    if type(value) is tp:\n"
        "        try:\n"
        f"            return {{{items}}}\n"
        "        except FieldError:\n"
        "            pass\n"
        "    return encode_checked(value)\n"
    )
    scope = {f"e{i}": enc for i, (_, enc) in enumerate(plan)}
    return _compile(
        source, "encode", tp=tp, FieldError=FieldError, encode_checked=encode_checked, **scope
    )


def _compile(source: str, name: str, **scope: Any) -> Callable[[Any], Any]:
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<serde {name}>", "exec"), scope, namespace)
    return namespace[name]


# --- text encoders: straight to JSON text --------------------------------------------
#
# ``dumps(encoder_for(tp)(value))`` builds a dict of JSON-ready values, then walks it
# again in C to write the text. A save writes hundreds of payloads, a bulk load millions,
# so for the usual field types a generated function writes the text in one pass, with
# the same checks. Anything it does not expect (a value of another type, NaN, text that
# is not ASCII, a field type it has no fast path for) raises ``_Unfit`` inside, and the
# payload is written the checked way instead: the same text, or the same error.


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
    origin, args = _origin(tp), typing.get_args(tp)
    if _is_optional(tp):
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
    for i, (name, ftype, _) in enumerate(_fields_of(tp)):
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
    return _compile("\n".join(lines) + "\n", "fragment", **scope)


# --- decoders -------------------------------------------------------------------------


@cache
def _decoder(tp: Any) -> Decoder:
    if tp is Any:
        return _encode_any
    if tp is str:
        return _decode_str
    if tp is bool:
        return _decode_bool
    if tp is int:
        return _decode_int
    if tp is float:
        return _decode_float
    if tp is Decimal:
        return _decode_decimal
    if tp is datetime:
        return _decode_datetime
    if tp is date:
        return _decode_date
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum_decoder(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _dataclass_decoder(tp)
    origin, args = _origin(tp), typing.get_args(tp)
    if _is_optional(tp):
        inner = [a for a in args if a is not type(None)]
        dec = _decoder(inner[0])
        return lambda v: None if v is None else dec(v)
    if origin in (tuple, list, Sequence) or origin is typing.Sequence:
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return _fixed_tuple_decoder(tuple(_decoder(a) for a in args))
        return _sequence_decoder(
            _decoder(args[0] if args else Any), list if origin is list else tuple
        )
    if origin in (dict, Mapping) or origin is typing.Mapping:
        frozen = origin is not dict
        return _mapping_decoder(_decoder(args[1] if args else Any), frozen)
    raise TypeError(f"unsupported payload field type {tp!r}")


def _decode_str(value: Any) -> Any:
    if type(value) is not str:
        raise FieldError("", f"expected a string, {_got(value)}")
    return value


def _decode_bool(value: Any) -> Any:
    if type(value) is not bool:
        raise FieldError("", f"expected true or false, {_got(value)}")
    return value


def _decode_int(value: Any) -> Any:
    if type(value) is not int:
        raise FieldError("", f"expected an integer, {_got(value)}")
    return value


def _decode_float(value: Any) -> Any:
    if type(value) is int or type(value) is Decimal:
        return float(value)
    raise FieldError("", f"expected a number, {_got(value)}")


def _decode_decimal(value: Any) -> Any:
    if type(value) is str:
        try:
            return Decimal(value)
        except InvalidOperation:
            raise FieldError("", f"expected a decimal number, {_got(value)}") from None
    if type(value) is Decimal:
        return value
    if type(value) is int:
        return Decimal(value)
    raise FieldError("", f"expected a decimal number, {_got(value)}")


def _decode_datetime(value: Any) -> Any:
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise FieldError("", f"expected an ISO datetime, {_got(value)}") from None


def _decode_date(value: Any) -> Any:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise FieldError("", f"expected an ISO date, {_got(value)}") from None


def _enum_decoder(tp: type[enum.Enum]) -> Decoder:
    def decode(value: Any) -> Any:
        try:
            return tp(value)
        except ValueError:
            raise FieldError(
                "", f"expected one of {[m.value for m in tp]}, {_got(value)}"
            ) from None

    return decode


def _sequence_decoder(item: Decoder, build: type) -> Decoder:
    def decode(value: Any) -> Any:
        if type(value) is not list:
            raise FieldError("", f"expected a list, {_got(value)}")
        out = []
        for index, element in enumerate(value):
            try:
                out.append(item(element))
            except FieldError as error:
                raise error.within(f"[{index}]") from None
        return build(out)

    return decode


def _fixed_tuple_decoder(items: tuple[Decoder, ...]) -> Decoder:
    def decode(value: Any) -> Any:
        if type(value) is not list or len(value) != len(items):
            raise FieldError("", f"expected a list of {len(items)}, {_got(value)}")
        return tuple(dec(v) for dec, v in zip(items, value, strict=True))

    return decode


def _mapping_decoder(item: Decoder, frozen: bool) -> Decoder:
    def decode(value: Any) -> Any:
        if type(value) is not dict:
            raise FieldError("", f"expected an object, {_got(value)}")
        out = {}
        for key, element in value.items():
            try:
                out[key] = item(element)
            except FieldError as error:
                raise error.within(f"[{key!r}]") from None
        return types.MappingProxyType(out) if frozen else out

    return decode


def _dataclass_decoder(tp: type) -> Decoder:
    plan = [(name, _decoder(ftype), required) for name, ftype, required in _fields_of(tp)]

    def decode_checked(value: Any) -> Any:
        if type(value) is not dict:
            raise FieldError("", f"expected an object for {tp.__name__}, {_got(value)}")
        kwargs = {}
        for name, dec, required in plan:
            if name in value:
                try:
                    kwargs[name] = dec(value[name])
                except FieldError as error:
                    raise error.within(name) from None
            elif required:
                raise FieldError(name, "missing")
        try:
            return tp(**kwargs)
        except (TypeError, ValueError) as error:
            raise FieldError("", f"{tp.__name__} refused the values: {error}") from None

    if not all(required for _, _, required in plan):
        return decode_checked
    # Every field required: one generated function with the common checks inline; any
    # refusal reruns the checked loop above, which names the field at fault. When the
    # dataclass's __init__ only stores its arguments, the instance is built by filling
    # its __dict__ directly: the same object, at half the cost of the call.
    lines = ["def decode(value):", "    if type(value) is dict:", "        try:"]
    scope: dict[str, Any] = {
        "tp": tp,
        "decode_checked": decode_checked,
        "Decimal": Decimal,
        "new": object.__new__,
    }
    for i, (name, dec, _) in enumerate(plan):
        lines.append(f"            f{i} = value[{name!r}]")
        if dec is _decode_str or dec is _decode_int or dec is _decode_bool:
            kind = {_decode_str: "str", _decode_int: "int", _decode_bool: "bool"}[dec]
            lines.append(f"            if type(f{i}) is not {kind}: raise TypeError")
        elif dec is _decode_decimal:
            lines.append(f"            f{i} = Decimal(f{i}) if type(f{i}) is str else d{i}(f{i})")
        else:
            lines.append(f"            f{i} = d{i}(f{i})")
        scope[f"d{i}"] = dec
    if _init_only_stores_fields(tp, [name for name, _, _ in plan]):
        lines.append("            made = new(tp)")
        lines.append("            attributes = made.__dict__")
        lines += [f"            attributes[{name!r}] = f{i}" for i, (name, _, _) in enumerate(plan)]
        lines.append("            return made")
    else:
        arguments = ", ".join(f"{name}=f{i}" for i, (name, _, _) in enumerate(plan))
        lines.append(f"            return tp({arguments})")
    lines += [
        "        except (LookupError, TypeError, ArithmeticError, ValueError):",
        "            pass",
        "    return decode_checked(value)",
    ]
    return _compile("\n".join(lines) + "\n", "decode", **scope)


def _init_only_stores_fields(tp: type, names: list[str]) -> bool:
    """Whether ``tp(**fields)`` does nothing but set ``names`` on a plain new instance.

    True for a dataclass whose ``__init__`` is the one ``dataclasses`` generated, with
    no ``__post_init__`` (nor InitVar, which needs one), no field left out of
    ``__init__``, no ``__slots__`` and no custom ``__new__``.
    """
    init = tp.__dict__.get("__init__")
    code = getattr(init, "__code__", None)
    return (
        code is not None
        and code.co_filename.startswith("<")  # generated by dataclasses, not written
        and getattr(init, "__qualname__", "") == f"{tp.__qualname__}.__init__"
        and code.co_varnames[1 : code.co_argcount + code.co_kwonlyargcount] == tuple(names)
        and not hasattr(tp, "__post_init__")
        and not hasattr(tp, "__slots__")
        and tp.__new__ is object.__new__
        and [f.name for f in dataclasses.fields(tp)] == names
    )
