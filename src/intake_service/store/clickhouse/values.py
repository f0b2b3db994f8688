"""What ClickHouse's column types hold, and the text it reads times from.

A server silently clamps a time outside its column's range (and an Int64 wraps), so callers refuse
such values first.
"""

import functools
from datetime import UTC, datetime, timedelta

# Every DateTime64 starts on 1900-01-01. DateTime64(6) ends on 2299-12-31; DateTime64(9), nanoseconds
# since 1970 in an Int64, ends on 2262-04-11, so the whole years up to 2261 (both ends exclusive here).
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
MICROSECOND_END = datetime(2300, 1, 1, tzinfo=UTC)
NANOSECOND_END = datetime(2262, 1, 1, tzinfo=UTC)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Token counts are Int64 columns.
MAX_INT64 = 2**63 - 1


def to_ns(moment: datetime) -> int:
    """A datetime as Unix nanoseconds (naive means UTC), without float rounding."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


_EARLIEST_NS = to_ns(EARLIEST)
_NANOSECOND_END_NS = to_ns(NANOSECOND_END)


def holds_microseconds(moment: datetime) -> bool:
    """Whether a DateTime64(6) column holds the aware `moment` (compared as datetimes, so a year-1
    or year-9999 value with an offset cannot overflow)."""
    return EARLIEST <= moment < MICROSECOND_END


def holds_nanoseconds(ns: int) -> bool:
    """Whether a DateTime64(9) column holds the time `ns` (Unix nanoseconds)."""
    return _EARLIEST_NS <= ns < _NANOSECOND_END_NS


def datetime_text(moment: datetime) -> str:
    """The text ClickHouse reads as a DateTime64(6) in UTC. isoformat pads the year to four digits
    (strftime's %Y does not: year 1 became "1", read as 2001). A time in UTC, as most are, is written
    as it is, its "+00:00" cut (half the cost of converting it: this runs twice per ingested session)."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(" ", "microseconds")[:-6]


def microsecond_text(ns: int) -> str:
    """The text of a DateTime64(6) from Unix nanoseconds, cut toward zero as ClickHouse converts a
    DateTime64(9) to it."""
    microseconds = ns // 1000 if ns >= 0 else -(-ns // 1000)
    return datetime_text(_EPOCH + timedelta(microseconds=microseconds))


def nanosecond_text(ns: int) -> str:
    """The text ClickHouse reads as a DateTime64(9) in UTC, from Unix nanoseconds."""
    seconds, fraction = divmod(ns, 1_000_000_000)
    return f"{_second_text(seconds)}.{fraction:09d}"


@functools.lru_cache(maxsize=4096)
def _second_text(seconds: int) -> str:
    # The spans of one batch mostly share their seconds: formatting them was most of a span's row.
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None).isoformat(" ", "seconds")
