"""The registry: event and snapshot names mapped to payload types, and JSON both ways.

The store keeps only a name and JSON text. The registry is what turns
``("stores.StoreCreated", '{"name":"Bits","location":"Mall 1"}')`` back into
``StoreCreated(name="Bits", location="Mall 1")``, and refuses anything that does not fit.
Like the book, one payload type may serve several names (``StoreParticipationToggled``
for both ``...Enabled`` and ``...Disabled``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mallbots.es import serde
from mallbots.es.errors import (
    NewerSchemaVersionError,
    PayloadError,
    RegistryError,
    UnknownNameError,
)

Kind = Literal["event", "snapshot"]


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
"""Turns the JSON object of one schema version into that of the next."""

SCHEMA_VERSION = "schema_version"
"""The metadata key that records a payload's schema version (absent means 1)."""


@dataclass(frozen=True)
class Registration:
    """One registered name: its payload type, kind, schema version, codec and upcasters."""

    name: str
    payload_type: type
    kind: Kind
    encode: serde.Encoder
    decode: serde.Decoder
    version: int = 1
    upcasters: Mapping[int, Upcaster] = field(default_factory=dict)
    dump: serde.TextEncoder | None = None
    """The payload straight to JSON text, or None where only the checked path can say."""

    def upcast(self, value: Any, from_version: int) -> Any:
        """The JSON object of ``from_version`` carried up to the current version."""
        for version in range(from_version, self.version):
            upcaster = self.upcasters.get(version)
            if upcaster is None:
                raise PayloadError(self.name, f"no upcaster from schema version {version}")
            if type(value) is not dict:
                raise PayloadError(self.name, f"expected an object to upcast, got {value!r}")
            try:
                value = upcaster(dict(value))
            except (LookupError, TypeError, ValueError, ArithmeticError) as error:
                # an old payload of an unexpected shape: corrupt, not a crash
                raise PayloadError(
                    self.name,
                    f"the upcaster from schema version {version} refused it "
                    f"({type(error).__name__}: {error})",
                ) from None
        return value


class Registry:
    """Names of events and snapshots, their payload types, and their JSON serde."""

    def __init__(self) -> None:
        self._by_name: dict[str, Registration] = {}
        self._snapshot_names: dict[type, str] = {}  # found by snapshot_name_of

    def register_event(self, name: str, payload_type: type, *, version: int = 1) -> None:
        """Register an event name and the frozen dataclass its payload is.

        ``version`` is the payload's schema version; events are stored with it, and
        older stored versions are read through :meth:`register_upcaster` functions.
        """
        self._register(name, payload_type, "event", version)

    def register_upcaster(self, name: str, from_version: int, upcaster: Upcaster) -> None:
        """Read stored payloads of ``name`` at ``from_version`` as ``from_version + 1``.

        The log is never rewritten: old events are upcast each time they are read.
        """
        registration = self.registration(name)
        if not 1 <= from_version < registration.version:
            raise ValueError(
                f"{name} is at schema version {registration.version}; an upcaster "
                f"from version {from_version} cannot apply"
            )
        upcasters = {**registration.upcasters, from_version: upcaster}
        self._by_name[name] = dataclasses.replace(registration, upcasters=upcasters)

    def register_snapshot(self, name: str, payload_type: type) -> None:
        """Register a snapshot name (``stores.StoreV1``) and its dataclass."""
        self._register(name, payload_type, "snapshot")

    def _register(self, name: str, payload_type: type, kind: Kind, version: int = 1) -> None:
        if not (dataclasses.is_dataclass(payload_type) and isinstance(payload_type, type)):
            raise TypeError(f"{name}: payload type must be a dataclass, not {payload_type!r}")
        if version < 1:
            raise ValueError(f"{name}: schema versions start at 1")
        existing = self._by_name.get(name)
        if existing is not None:
            same = (existing.payload_type, existing.kind, existing.version)
            if same == (payload_type, kind, version):
                return
            raise ValueError(f"{name!r} is already registered as {existing.payload_type.__name__}")
        self._snapshot_names.clear()
        self._by_name[name] = Registration(
            name=name,
            payload_type=payload_type,
            kind=kind,
            encode=serde.encoder_for(payload_type),
            decode=serde.decoder_for(payload_type),
            version=version,
            dump=serde.text_encoder_for(payload_type),
        )

    def registration(self, name: str) -> Registration:
        """The registration of ``name``; :class:`UnknownNameError` if there is none."""
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownNameError(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def names(self, kind: Kind | None = None) -> list[str]:
        """Every registered name, optionally only events or only snapshots."""
        return sorted(n for n, r in self._by_name.items() if kind is None or r.kind == kind)

    def snapshot_name_of(self, payload_type: type) -> str:
        """The snapshot name registered for ``payload_type`` (``StoreV1`` -> ``stores.StoreV1``)."""
        found = self._snapshot_names.get(payload_type)
        if found is not None:
            return found
        for registration in self._by_name.values():
            if registration.kind == "snapshot" and registration.payload_type is payload_type:
                self._snapshot_names[payload_type] = registration.name
                return registration.name
        raise RegistryError(f"no snapshot name is registered for {payload_type.__name__}")

    def version_of(self, name: str) -> int:
        """The current schema version of ``name``'s payload."""
        return self.registration(name).version

    def type_of(self, name: str) -> type:
        """The payload type registered for ``name``."""
        return self.registration(name).payload_type

    # --- serde --------------------------------------------------------------------------

    def to_json_value(self, name: str, payload: Any) -> Any:
        """The payload as JSON-ready values, checked against the type of ``name``."""
        registration = self.registration(name)
        try:
            return registration.encode(payload)
        except serde.FieldError as error:
            raise PayloadError(name, str(error)) from None

    def serialize(self, name: str, payload: Any) -> str:
        """The payload of ``name`` as compact JSON text."""
        registration = self.registration(name)
        text = registration.dump(payload) if registration.dump is not None else None
        if text is not None:
            return text
        value = self.to_json_value(name, payload)
        try:
            return serde.dumps(value)
        except (ValueError, TypeError, RecursionError) as error:
            # NaN or infinity in a float field, a lone surrogate in a string, an integer
            # too long for JSON, or (in an ``Any`` field) a value JSON cannot hold.
            raise PayloadError(name, str(error)) from None

    def from_json_value(self, name: str, value: Any) -> Any:
        """Build the payload of ``name`` from parsed JSON values, checking every field."""
        registration = self.registration(name)
        try:
            return registration.decode(value)
        except serde.FieldError as error:
            raise PayloadError(name, str(error)) from None

    def deserialize(self, name: str, data: str | bytes, version: int = 1) -> Any:
        """Build the payload of ``name`` from JSON text stored at schema ``version``."""
        registration = self.registration(name)
        try:
            value = serde.loads(data)
        except (json.JSONDecodeError, TypeError, UnicodeDecodeError) as error:
            raise PayloadError(name, f"not valid JSON ({error})") from None
        if version > registration.version:
            raise NewerSchemaVersionError(name, version, registration.version)
        if version < registration.version:
            value = registration.upcast(value, version)
        try:
            return registration.decode(value)
        except serde.FieldError as error:
            raise PayloadError(name, str(error)) from None

    def merge(self, others: Iterable[Registry]) -> Registry:
        """A new registry holding this one's names and those of ``others``."""
        merged = Registry()
        for registry in (self, *others):
            for registration in registry._by_name.values():
                existing = merged._by_name.get(registration.name)
                if existing is not None and _definition(existing) != _definition(registration):
                    raise ValueError(f"{registration.name!r} is registered differently twice")
                merged._by_name[registration.name] = registration
        return merged


def _definition(registration: Registration) -> tuple:
    """What makes two registrations of a name the same: not their codecs, which each
    registry builds afresh for the same type."""
    return (
        registration.payload_type,
        registration.kind,
        registration.version,
        dict(registration.upcasters),
    )
