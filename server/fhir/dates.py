"""FHIR date, dateTime and instant values as ranges of instants.

A FHIR date has a precision: ``2025`` means the whole year. Searching and ``_at``
compare ranges, so every value becomes ``[low, high]`` in microseconds since the epoch
(UTC), ``high`` being the last microsecond the value covers. Values without a time
zone are read in the server's zone, Asia/Ho_Chi_Minh (UTC+07:00).
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta, timezone

LOCAL_TZ = timezone(timedelta(hours=7))
_US = 1_000_000

_DATE_RE = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,9}))?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


class DateFormatError(ValueError):
    """The text is not a FHIR date, dateTime or instant."""


def _tz(text: str | None) -> timezone:
    if text is None:
        return LOCAL_TZ
    if text == "Z":
        return timezone.utc
    sign = 1 if text[0] == "+" else -1
    hours, minutes = int(text[1:3]), int(text[4:6])
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def to_us(moment: datetime) -> int:
    """A timezone-aware datetime as microseconds since the epoch."""
    delta = moment - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * _US + delta.microseconds


def from_us(us: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=us)


def parse_range(text: str) -> tuple[int, int]:
    """``text`` as the range of instants it covers; raises :class:`DateFormatError`."""
    m = _DATE_RE.match(text.strip()) if isinstance(text, str) else None
    if m is None:
        raise DateFormatError(f"'{text}' is not a FHIR date, dateTime or instant (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm))")
    g = m.groupdict()
    if g["H"] is not None and g["S"] is None and g["tz"] is None:
        pass  # hh:mm without seconds is accepted for search values
    try:
        tz = _tz(g["tz"])
        year = int(g["y"])
        if g["m"] is None:
            start = datetime(year, 1, 1, tzinfo=tz)
            end = datetime(year + 1, 1, 1, tzinfo=tz)
        elif g["d"] is None:
            month = int(g["m"])
            start = datetime(year, month, 1, tzinfo=tz)
            end = start + timedelta(days=calendar.monthrange(year, month)[1])
        elif g["H"] is None:
            start = datetime(year, int(g["m"]), int(g["d"]), tzinfo=tz)
            end = start + timedelta(days=1)
        else:
            second = int(g["S"] or 0)
            frac = g["f"]
            micro = int((frac + "000000")[:6]) if frac else 0
            start = datetime(year, int(g["m"]), int(g["d"]), int(g["H"]), int(g["M"]), second, micro, tzinfo=tz)
            if frac:
                end = start + timedelta(microseconds=10 ** max(0, 6 - len(frac)))
            elif g["S"] is not None:
                end = start + timedelta(seconds=1)
            else:
                end = start + timedelta(minutes=1)
    except (ValueError, OverflowError) as exc:
        raise DateFormatError(f"'{text}' is not a valid date: {exc}") from None
    return to_us(start), to_us(end) - 1


def range_param(name: str, value: str) -> tuple[int, int]:
    """A search or history parameter's date value as a range; a 400 naming ``name`` if it is not one."""
    from .outcome import bad_request  # outcome does not depend on dates; imported here to keep this module a leaf

    try:
        return parse_range(value)
    except DateFormatError as exc:
        raise bad_request(f"Invalid value for {name}: {exc}", name) from None


def instant(us: int) -> str:
    """``us`` as a FHIR instant in UTC with microseconds (``meta.lastUpdated``)."""
    return from_us(us).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def http_date(us: int) -> str:
    """``us`` as an HTTP date (``Last-Modified``)."""
    return from_us(us).strftime("%a, %d %b %Y %H:%M:%S GMT")
