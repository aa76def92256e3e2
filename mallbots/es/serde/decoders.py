"""Decoders: parsed JSON values back to payload values, checking every field.

JSON numbers arrive as ``Decimal`` (see :func:`~mallbots.es.serde.loads`), so money
reads back exactly. A dataclass gets one generated function for the usual case, filling
a plain instance directly when its ``__init__`` only stores fields, and a checked path
that names the field at fault for the rest.
"""

from __future__ import annotations

import dataclasses
import enum
import types
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from mallbots.es.serde.fields import (
    Decoder,
    FieldError,
    as_is,
    compile_function,
    each_element,
    each_value,
    fields_of,
    got,
    or_none,
    shape_of,
)


@cache
def decoder_for(tp: Any) -> Decoder:
    """The decoder of ``tp``: JSON value -> value, raising :class:`FieldError`."""
    shape = shape_of(tp)
    match shape.kind:
        case "any":
            return as_is
        case "scalar":
            return _SCALARS[tp]
        case "enum":
            return _enum_decoder(tp)
        case "dataclass":
            return _dataclass_decoder(tp)
        case "optional":
            return or_none(decoder_for(shape.inner[0]))
        case "tuple":
            return _fixed_tuple_decoder(tuple(decoder_for(a) for a in shape.inner))
        case "sequence":
            build = list if shape.container is list else tuple
            return _sequence_decoder(decoder_for(shape.inner[0]), build)
        case _:  # a mapping: a dict field reads back a dict, a Mapping one a read-only view
            return _mapping_decoder(decoder_for(shape.inner[0]), frozen=shape.container is not dict)


def _decode_str(value: Any) -> Any:
    if type(value) is not str:
        raise FieldError("", f"expected a string, {got(value)}")
    return value


def _decode_bool(value: Any) -> Any:
    if type(value) is not bool:
        raise FieldError("", f"expected true or false, {got(value)}")
    return value


def _decode_int(value: Any) -> Any:
    if type(value) is not int:
        raise FieldError("", f"expected an integer, {got(value)}")
    return value


def _decode_float(value: Any) -> Any:
    if type(value) is int or type(value) is Decimal:
        return float(value)
    raise FieldError("", f"expected a number, {got(value)}")


def _decode_decimal(value: Any) -> Any:
    if type(value) is str:
        try:
            return Decimal(value)
        except InvalidOperation:
            raise FieldError("", f"expected a decimal number, {got(value)}") from None
    if type(value) is Decimal:
        return value
    if type(value) is int:
        return Decimal(value)
    raise FieldError("", f"expected a decimal number, {got(value)}")


def _decode_datetime(value: Any) -> Any:
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise FieldError("", f"expected an ISO datetime, {got(value)}") from None


def _decode_date(value: Any) -> Any:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise FieldError("", f"expected an ISO date, {got(value)}") from None


_SCALARS: dict[type, Decoder] = {
    str: _decode_str,
    bool: _decode_bool,
    int: _decode_int,
    float: _decode_float,
    Decimal: _decode_decimal,
    datetime: _decode_datetime,
    date: _decode_date,
}


def _enum_decoder(tp: type[enum.Enum]) -> Decoder:
    def decode(value: Any) -> Any:
        try:
            return tp(value)
        except ValueError:
            raise FieldError("", f"expected one of {[m.value for m in tp]}, {got(value)}") from None

    return decode


def _sequence_decoder(item: Decoder, build: type) -> Decoder:
    def decode(value: Any) -> Any:
        if type(value) is not list:
            raise FieldError("", f"expected a list, {got(value)}")
        return build(each_element(item, value))

    return decode


def _fixed_tuple_decoder(items: tuple[Decoder, ...]) -> Decoder:
    def decode(value: Any) -> Any:
        if type(value) is not list or len(value) != len(items):
            raise FieldError("", f"expected a list of {len(items)}, {got(value)}")
        return tuple(dec(v) for dec, v in zip(items, value, strict=True))

    return decode


def _mapping_decoder(item: Decoder, frozen: bool) -> Decoder:
    def decode(value: Any) -> Any:
        if type(value) is not dict:
            raise FieldError("", f"expected an object, {got(value)}")
        out = each_value(item, value)
        return types.MappingProxyType(out) if frozen else out

    return decode


def _dataclass_decoder(tp: type) -> Decoder:
    plan = [(name, decoder_for(ftype), required) for name, ftype, required in fields_of(tp)]

    def decode_checked(value: Any) -> Any:
        if type(value) is not dict:
            raise FieldError("", f"expected an object for {tp.__name__}, {got(value)}")
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
    return compile_function("\n".join(lines) + "\n", "decode", **scope)


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
