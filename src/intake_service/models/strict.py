"""What request bodies share: their values are taken as JSON types, never coerced.

Pydantic's lax mode would read `false` as 0, `"1.5"` as a number and `0` as a time in 1970, none of
which the OpenAPI document allows. Request models derive from StrictBody (scripts/generate-models.sh
maps the generated ones onto it), and their times are JsonDatetime: a string, as JSON carries them.
"""

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, Strict, WithJsonSchema


def _text_only(value: Any) -> Any:
    if isinstance(value, str | datetime):
        return value
    raise ValueError("Input should be an RFC 3339 date-time string")


# Strict mode would refuse the string too (it wants a datetime object); the string is parsed leniently.
JsonDatetime = Annotated[AwareDatetime, Strict(False), BeforeValidator(_text_only)]
JsonNaiveOrAwareDatetime = Annotated[datetime, Strict(False), BeforeValidator(_text_only)]
# A session's times: ClickHouse's DateTime64 holds the years 1900-2299, which the document states
# (the domain refuses a time outside them, with its own sentence).
SessionTime = Annotated[
    JsonDatetime, WithJsonSchema({"type": "string", "format": "date-time", "pattern": "^(19[0-9]{2}|2[0-2][0-9]{2})-"})
]

# A span's times: nanoseconds since 1970 in 64 bits hold the years 1900-2261, which the document
# states (the ingest refuses a time outside them, with its own sentence).
YEARS_1900_TO_2261 = "^(19[0-9]{2}|2[01][0-9]{2}|22[0-5][0-9]|226[01])-"
SpanTime = Annotated[
    JsonDatetime, WithJsonSchema({"type": "string", "format": "date-time", "pattern": YEARS_1900_TO_2261})
]


def whole_number(value: Any) -> Any:
    """JSON has one number type: 86.0 is the integer 86 (the document's `integer` takes it)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


WholeNumber = BeforeValidator(whole_number)
# A count in a body read strictly. The constraints come before the validator, so that the document
# states them (after it, pydantic writes `ge` into the schema, which JSON Schema does not know); and
# they bind the int, not the `| None`.
Count = Annotated[int, Field(ge=0), WholeNumber] | None


class StrictBody(BaseModel):
    model_config = ConfigDict(strict=True)
