"""The registry: names to types, and errors that name the event."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from mallbots.es import PayloadError, Registry, UnknownNameError
from mallbots.es.errors import RegistryError
from tests.es_support import AccountOpened, AccountV1, MoneyDeposited, bank_registry


def test_serialize_and_deserialize_by_name():
    registry = bank_registry()
    text = registry.serialize("bank.MoneyDeposited", MoneyDeposited(Decimal("5.00")))
    assert registry.deserialize("bank.MoneyDeposited", text) == MoneyDeposited(Decimal("5.00"))


def test_an_unknown_name_is_a_clear_error():
    with pytest.raises(UnknownNameError) as caught:
        bank_registry().deserialize("bank.Nope", "{}")
    assert "bank.Nope" in str(caught.value)
    assert "never registered" in str(caught.value)


def test_a_payload_of_another_type_is_refused_with_the_event_name():
    with pytest.raises(PayloadError) as caught:
        bank_registry().serialize("bank.MoneyDeposited", AccountOpened("Ada"))
    assert "bank.MoneyDeposited" in str(caught.value)


def test_a_payload_missing_a_field_is_refused_with_the_event_name_and_field():
    with pytest.raises(PayloadError) as caught:
        bank_registry().deserialize("bank.AccountOpened", "{}")
    assert "bank.AccountOpened" in str(caught.value)
    assert "owner" in str(caught.value)


def test_corrupted_json_is_refused_with_the_event_name():
    with pytest.raises(PayloadError) as caught:
        bank_registry().deserialize("bank.AccountOpened", '{"owner": ')
    assert "not valid JSON" in str(caught.value)


def test_snapshots_are_registered_apart_from_events():
    registry = bank_registry()
    assert registry.names("snapshot") == ["bank.AccountV1"]
    assert registry.snapshot_name_of(AccountV1) == "bank.AccountV1"
    assert "bank.AccountV1" not in registry.names("event")


def test_one_name_cannot_be_registered_for_two_types():
    registry = bank_registry()
    with pytest.raises(ValueError, match="already registered"):
        registry.register_event("bank.AccountOpened", MoneyDeposited)
    registry.register_event("bank.AccountOpened", AccountOpened)  # the same again is fine


@dataclass(frozen=True)
class FirstShape:
    a: int


@dataclass(frozen=True)
class SecondShape:
    b: int


def test_a_snapshot_type_is_found_by_its_own_name_among_several():
    registry = Registry()
    registry.register_event("x.Happened", SecondShape)
    registry.register_snapshot("x.FirstV1", FirstShape)
    registry.register_snapshot("x.SecondV1", SecondShape)
    assert registry.snapshot_name_of(SecondShape) == "x.SecondV1"
    assert registry.snapshot_name_of(SecondShape) == "x.SecondV1"  # and again, remembered
    assert registry.snapshot_name_of(FirstShape) == "x.FirstV1"
    with pytest.raises(RegistryError, match="no snapshot name is registered for AccountOpened"):
        registry.snapshot_name_of(AccountOpened)


def test_text_beyond_ascii_is_stored_as_is_and_read_back():
    """Such a payload leaves the fast text encoder for the checked path: same JSON."""
    registry = bank_registry()
    text = registry.serialize("bank.AccountOpened", AccountOpened("Zoë Ó"))
    assert text == '{"owner":"Zoë Ó"}'
    assert registry.deserialize("bank.AccountOpened", text) == AccountOpened("Zoë Ó")
    assert registry.to_json_value("bank.MoneyDeposited", MoneyDeposited(Decimal("5.00"))) == {
        "amount": "5.00"
    }


@pytest.mark.parametrize("not_a_dataclass_type", [int, AccountOpened("Ada")])
def test_only_a_dataclass_type_can_be_registered_as_a_payload(not_a_dataclass_type):
    with pytest.raises(TypeError, match="payload type must be a dataclass"):
        Registry().register_event("x.Happened", not_a_dataclass_type)


def test_events_and_snapshots_are_listed_by_kind():
    registry = bank_registry()
    assert registry.names("event") == [
        "bank.AccountClosed",
        "bank.AccountOpened",
        "bank.AccountRenamed",
        "bank.MoneyDeposited",
        "bank.MoneyWithdrawn",
    ]
    assert registry.names() == sorted([*registry.names("event"), "bank.AccountV1"])


@dataclass(frozen=True)
class ShapeV2:
    a: int
    b: int


def test_registry_errors_name_the_event_and_say_what_is_wrong():
    registry = Registry()
    registry.register_event("x.Happened", ShapeV2, version=2)
    with pytest.raises(PayloadError, match=r"^payload of 'x\.Happened' .*: not valid JSON \("):
        registry.deserialize("x.Happened", '{"a": ')
    with pytest.raises(
        PayloadError,
        match=r"^payload of 'x\.Happened' .*: no upcaster from schema version 1$",
    ):
        registry.deserialize("x.Happened", '{"a": 1}', version=1)
    with pytest.raises(PayloadError, match=r"^payload of 'x\.Happened' .*: expected ShapeV2, got"):
        registry.to_json_value("x.Happened", FirstShape(1))
    with pytest.raises(PayloadError) as newer:
        registry.deserialize("x.Happened", '{"a": 1, "b": 2}', version=3)
    assert newer.value.name == "x.Happened"


def test_registries_merge_when_they_agree_and_refuse_a_name_registered_two_ways():
    """Two modules may register one event alike (each registry builds its own codecs)."""
    first, same, other = Registry(), Registry(), Registry()
    first.register_event("x.Happened", FirstShape)
    same.register_event("x.Happened", FirstShape)
    same.register_snapshot("x.FirstV1", FirstShape)
    other.register_event("x.Happened", SecondShape)
    merged = first.merge([same])
    assert merged.names() == ["x.FirstV1", "x.Happened"]
    assert merged.merge([first, same]).names() == merged.names()
    assert merged.deserialize("x.Happened", '{"a": 1}') == FirstShape(1)
    with pytest.raises(ValueError, match=r"^'x\.Happened' is registered differently twice$"):
        first.merge([same, other])


@dataclass(frozen=True)
class Reading:
    value: float


def test_a_payload_json_cannot_hold_is_refused_naming_the_event_and_why():
    registry = Registry()
    registry.register_event("x.Read", Reading)
    with pytest.raises(
        PayloadError,
        match=r"^payload of 'x\.Read' does not fit its type: Out of range float values are not",
    ):
        registry.serialize("x.Read", Reading(float("nan")))
    with pytest.raises(ValueError, match=r"^x\.Read: schema versions start at 1$"):
        registry.register_event("x.Read", Reading, version=0)


def test_parsed_json_values_become_payloads_checked_field_by_field():
    registry = bank_registry()
    assert "bank.MoneyDeposited" in registry and "bank.Nope" not in registry
    deposited = registry.from_json_value("bank.MoneyDeposited", {"amount": "5.00"})
    assert deposited == MoneyDeposited(Decimal("5.00"))
    with pytest.raises(
        PayloadError, match=r"^payload of 'bank\.MoneyDeposited' does not fit its type: amount"
    ):
        registry.from_json_value("bank.MoneyDeposited", {"amount": "five"})
