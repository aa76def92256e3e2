"""The typed JSON serde: exact round trips and errors that name the field."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mallbots.es import serde
from mallbots.es.serde.fields import Shape, shape_of
from mallbots.es.serde.text_encoders import _fragment


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int
    price: Decimal


@dataclass(frozen=True)
class Everything:
    text: str
    count: int
    flag: bool
    ratio: float
    money: Decimal
    when: datetime
    colour: Colour
    lines: tuple[Line, ...]
    by_sku: Mapping[str, Line]
    note: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)


SAMPLE = Everything(
    text="naïve ☃ 'quoted' \"double\"",
    count=3,
    flag=True,
    ratio=0.25,
    money=Decimal("19.99"),
    when=datetime(2024, 5, 1, 12, 30, tzinfo=UTC),
    colour=Colour.BLUE,
    lines=(Line("a", 1, Decimal("1.10")), Line("b", 2, Decimal("0.01"))),
    by_sku={"a": Line("a", 1, Decimal("1.10"))},
    note=None,
    tags=("x", "y"),
)


def round_trip(tp, value):
    text = serde.dumps(serde.encoder_for(tp)(value))
    return serde.decoder_for(tp)(serde.loads(text))


def test_every_supported_type_round_trips_exactly():
    assert round_trip(Everything, SAMPLE) == SAMPLE


def test_money_is_written_as_text_and_read_back_exactly():
    text = serde.dumps(serde.encoder_for(Line)(Line("a", 1, Decimal("0.10"))))
    assert '"price":"0.10"' in text
    assert serde.decoder_for(Line)(serde.loads(text)).price == Decimal("0.10")


def test_a_price_stored_as_a_json_number_reads_back_as_the_exact_decimal():
    line = serde.decoder_for(Line)(serde.loads('{"sku":"a","quantity":1,"price":9.99}'))
    assert line.price == Decimal("9.99")


@pytest.mark.parametrize(
    ("payload", "path", "words"),
    [
        ('{"sku":"a","quantity":1}', "price", "missing"),
        ('{"sku":1,"quantity":1,"price":"1"}', "sku", "expected a string"),
        ('{"sku":"a","quantity":"1","price":"1"}', "quantity", "expected an integer"),
        ('{"sku":"a","quantity":true,"price":"1"}', "quantity", "expected an integer"),
        ('{"sku":"a","quantity":1,"price":"lots"}', "price", "decimal"),
        ("[1,2]", "", "expected an object"),
    ],
)
def test_a_payload_that_does_not_fit_names_the_field(payload, path, words):
    with pytest.raises(serde.FieldError) as caught:
        serde.decoder_for(Line)(serde.loads(payload))
    assert caught.value.path == path
    assert words in caught.value.problem


def test_nested_errors_give_the_full_path():
    good = serde.dumps(serde.encoder_for(Everything)(SAMPLE))
    bad = good.replace('"quantity":2', '"quantity":"2"')
    with pytest.raises(serde.FieldError) as caught:
        serde.decoder_for(Everything)(serde.loads(bad))
    assert caught.value.path == "lines[1].quantity"


def test_encoding_refuses_a_value_of_the_wrong_type():
    with pytest.raises(serde.FieldError) as caught:
        serde.encoder_for(Line)(Line("a", 1, 9.99))  # a float where money belongs
    assert caught.value.path == "price"


def test_nan_is_refused_because_it_is_not_json():
    @dataclass(frozen=True)
    class Reading:
        value: float

    with pytest.raises(ValueError):
        serde.dumps(serde.encoder_for(Reading)(Reading(float("nan"))))


texts = st.text(max_size=50)
decimals = st.decimals(allow_nan=False, allow_infinity=False, places=2, max_value=10**9)


@given(st.builds(Line, texts, st.integers(-(2**40), 2**40), decimals))
def test_lines_round_trip(line):
    assert round_trip(Line, line) == line


# --- the decoder may build a dataclass without calling its __init__; only when that is safe


@dataclass(frozen=True)
class Positive:
    amount: Decimal

    def __post_init__(self) -> None:
        if self.amount <= 0:
            raise ValueError("must be positive")


@dataclass(frozen=True)
class Shouting:
    word: str

    def __init__(self, word: str) -> None:
        object.__setattr__(self, "word", word.upper())


@dataclass(frozen=True, slots=True)
class Slotted:
    sku: str
    quantity: int


@dataclass(frozen=True)
class WithComputed:
    sku: str
    label: str = field(init=False, default="?")


def test_a_decoded_dataclass_is_the_object_its_constructor_makes():
    decoded = serde.decoder_for(Line)(serde.loads('{"sku":"a","quantity":1,"price":"2.50"}'))
    made = Line("a", 1, Decimal("2.50"))
    assert decoded == made and hash(decoded) == hash(made) and vars(decoded) == vars(made)
    with pytest.raises(dataclasses.FrozenInstanceError):
        decoded.sku = "b"


def test_post_init_checks_still_run_when_decoding():
    assert serde.decoder_for(Positive)({"amount": "1"}) == Positive(Decimal("1"))
    with pytest.raises(serde.FieldError, match="refused the values"):
        serde.decoder_for(Positive)({"amount": "-1"})


def test_a_written_init_is_still_called_when_decoding():
    assert serde.decoder_for(Shouting)({"word": "hi"}).word == "HI"


def test_slotted_dataclasses_and_init_false_fields_decode():
    assert serde.decoder_for(Slotted)({"sku": "a", "quantity": 2}) == Slotted("a", 2)
    assert serde.decoder_for(WithComputed)({"sku": "a"}).label == "?"


# --- the text encoder: one pass to JSON text, the same text as the checked way


def checked_text(tp, value):
    """What the checked way writes, or the error it raises."""
    try:
        return serde.dumps(serde.encoder_for(tp)(value))
    except (ValueError, TypeError) as error:
        return type(error)


def test_the_text_encoder_writes_what_the_checked_way_writes():
    ascii_sample = dataclasses.replace(SAMPLE, text="plain 'quoted' \"double\" \\ \n\t\x01")
    for value in (ascii_sample, dataclasses.replace(ascii_sample, note="a note", ratio=3)):
        text = serde.text_encoder_for(Everything)(value)
        assert text is not None and text == checked_text(Everything, value)
        assert round_trip(Everything, value) == value


def test_the_text_encoder_leaves_what_it_does_not_expect_to_the_checked_way():
    fast = serde.text_encoder_for(Everything)
    for value in (
        SAMPLE,  # not ASCII: the checked way looks for lone surrogates
        dataclasses.replace(SAMPLE, ratio=float("nan")),
        dataclasses.replace(SAMPLE, money=Decimal("Infinity")),
        dataclasses.replace(SAMPLE, count=True),
        dataclasses.replace(SAMPLE, flag=1),
        dataclasses.replace(SAMPLE, colour="blue"),
        dataclasses.replace(SAMPLE, lines="ab"),
        dataclasses.replace(SAMPLE, by_sku={1: Line("a", 1, Decimal(1))}),
        Line("a", 1, Decimal(1)),  # another type altogether
    ):
        assert fast(value) is None


anything = st.one_of(
    st.text(max_size=8),
    st.integers(-(2**70), 2**70),
    st.booleans(),
    st.none(),
    st.floats(),
    st.decimals(places=2),
    st.decimals(),
)


@given(
    st.builds(Line, anything, anything, anything),
    st.lists(st.builds(Line, texts, st.integers(), decimals), max_size=3),
)
def test_the_text_encoder_agrees_with_the_checked_way_on_any_values(line, lines):
    for tp, value in ((Line, line), (Everything, dataclasses.replace(SAMPLE, lines=lines))):
        text = serde.text_encoder_for(tp)(value)
        assert text is None or text == checked_text(tp, value)


def test_every_payload_of_the_shop_has_a_text_encoder():
    from mallbots.app import MallBots

    with MallBots.in_memory() as shop:
        registry = shop.registry
        for name in registry.names():
            payload_type = registry.type_of(name)
            assert _fragment(payload_type) is not None, name


def test_every_codec_agrees_on_which_field_types_exist():
    # One classifier decides; the decoders used to take the first type of a wider union.
    for unsupported in (int | str | None, dict[int, str], set[int], int | str):
        for build in (serde.encoder_for, serde.decoder_for):
            with pytest.raises(TypeError):
                build(unsupported)
    assert shape_of(list[int]) == Shape("sequence", (int,), list)
    assert shape_of(tuple[int, ...]) == Shape("sequence", (int,), tuple)
    assert shape_of(tuple[int, str]) == Shape("tuple", (int, str))
    assert shape_of(Mapping[str, Decimal]) == Shape("mapping", (Decimal,), Mapping)
    assert shape_of(str | None) == Shape("optional", (str,))
