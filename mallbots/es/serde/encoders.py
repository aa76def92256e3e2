"""Encoders: a payload value to JSON-ready values (dicts, lists, strings), checked.

Compiled once per type from its type hints. A dataclass gets one generated expression
for the usual case, and a checked loop that names the field at fault for the rest.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from mallbots.es.serde.fields import (
    Encoder,
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
def encoder_for(tp: Any) -> Encoder:
    """The encoder of ``tp``: value -> JSON-ready value, raising :class:`FieldError`."""
    shape = shape_of(tp)
    match shape.kind:
        case "any":
            return as_is
        case "scalar":
            return _SCALARS[tp] if tp in _SCALARS else _exact_type_encoder(tp)
        case "enum":
            return _enum_encoder(tp)
        case "dataclass":
            return _dataclass_encoder(tp)
        case "optional":
            return or_none(encoder_for(shape.inner[0]))
        case "tuple":
            return _fixed_tuple_encoder(tuple(encoder_for(a) for a in shape.inner))
        case "sequence":
            return _sequence_encoder(encoder_for(shape.inner[0]))
        case _:  # a mapping
            return _mapping_encoder(encoder_for(shape.inner[0]))


def _exact_type_encoder(tp: type) -> Encoder:
    def encode(value: Any) -> Any:
        if type(value) is not tp:
            raise FieldError("", f"expected {tp.__name__}, {got(value)}")
        return value

    return encode


def _encode_float(value: Any) -> Any:
    if type(value) is float or type(value) is int:
        return value
    raise FieldError("", f"expected float, {got(value)}")


def _encode_decimal(value: Any) -> Any:
    if type(value) is not Decimal:
        raise FieldError("", f"expected Decimal, {got(value)}")
    if not value.is_finite():  # NaN never equals itself: no amount of money is NaN
        raise FieldError("", f"expected a finite Decimal, {got(value)}")
    return str(value)


def _encode_datetime(value: Any) -> Any:
    if not isinstance(value, datetime):
        raise FieldError("", f"expected datetime, {got(value)}")
    return value.isoformat()


def _encode_date(value: Any) -> Any:
    if type(value) is not date:
        raise FieldError("", f"expected date, {got(value)}")
    return value.isoformat()


_SCALARS: dict[type, Encoder] = {
    float: _encode_float,
    Decimal: _encode_decimal,
    datetime: _encode_datetime,
    date: _encode_date,
}
"""Scalars with encoders of their own; str, int and bool must be exactly that type."""


def _enum_encoder(tp: type[enum.Enum]) -> Encoder:
    def encode(value: Any) -> Any:
        if not isinstance(value, tp):
            raise FieldError("", f"expected {tp.__name__}, {got(value)}")
        return value.value

    return encode


def _sequence_encoder(item: Encoder) -> Encoder:
    def encode(value: Any) -> Any:
        if not isinstance(value, (tuple, list)):
            raise FieldError("", f"expected a sequence, {got(value)}")
        return each_element(item, value)

    return encode


def _fixed_tuple_encoder(items: tuple[Encoder, ...]) -> Encoder:
    def encode(value: Any) -> Any:
        if not isinstance(value, (tuple, list)) or len(value) != len(items):
            raise FieldError("", f"expected a tuple of {len(items)}, {got(value)}")
        return [enc(v) for enc, v in zip(items, value, strict=True)]

    return encode


def _mapping_encoder(item: Encoder) -> Encoder:
    def encode(value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise FieldError("", f"expected a mapping, {got(value)}")
        for key in value:
            if type(key) is not str:
                raise FieldError("", f"mapping keys must be str, {got(key)}")
        return each_value(item, value)

    return encode


def _dataclass_encoder(tp: type) -> Encoder:
    plan = [(name, encoder_for(ftype)) for name, ftype, _ in fields_of(tp)]

    def encode_checked(value: Any) -> Any:
        if type(value) is not tp:
            raise FieldError("", f"expected {tp.__name__}, {got(value)}")
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
    return compile_function(
        source, "encode", tp=tp, FieldError=FieldError, encode_checked=encode_checked, **scope
    )
