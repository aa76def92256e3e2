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

from mallbots.es.serde.decoders import decoder_for
from mallbots.es.serde.encoders import encoder_for
from mallbots.es.serde.fields import Decoder, Encoder, FieldError
from mallbots.es.serde.json_text import check_text, dumps, dumps_metadata, loads, loads_metadata
from mallbots.es.serde.text_encoders import TextEncoder, text_encoder_for

__all__ = [
    "Decoder",
    "Encoder",
    "FieldError",
    "TextEncoder",
    "check_text",
    "decoder_for",
    "dumps",
    "dumps_metadata",
    "encoder_for",
    "loads",
    "loads_metadata",
    "text_encoder_for",
]
