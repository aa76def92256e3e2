"""JSON text: strict, compact writing; reading with exact decimals; event metadata."""

from __future__ import annotations

import contextlib
import json
import json.encoder as json_encoder
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from mallbots.es.serde.fields import FieldError, got

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
                raise FieldError(inner, f"keys must be strings, {got(key)}")
            _check_plain_json(element, inner)
        return
    raise FieldError(
        path, f"{got(value)}: only strings, numbers, booleans, None, lists and dicts read back"
    )
