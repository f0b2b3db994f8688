"""What request bodies share: their values are taken as JSON types, never coerced.

Pydantic's lax mode would read `false` as 0, `"1.5"` as a number and `0` as a time in 1970, none of
which the OpenAPI document allows. Request models derive from StrictBody (scripts/generate-models.sh
maps the generated ones onto it), and their times are JsonDatetime: a string, as JSON carries them.
"""

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Strict, WithJsonSchema


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


class StrictBody(BaseModel):
    model_config = ConfigDict(strict=True)
