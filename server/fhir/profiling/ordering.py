"""FHIRPath's ``<``, ``<=``, ``>``, ``>=`` for dates and quantities read from an instance.

fhirpathpy 2.2.4 compares two values read from a resource by their JSON form: dates as strings
(``'2024-01-01T10:00:00+07:00' <= '2024-01-01T06:00:00Z'`` is false to it, a timezone and a
precision are only characters) and quantities not at all (two dicts). R4's per-1, rng-2,
mdd-1 and inv-1 compare exactly such values. These replace the engine's operators: dates are
compared as FHIRPath says, timezones applied, with one difference: two dates at different
precisions that agree as far as both go (``2023-06-21`` and ``2023-06-21T06:20:00Z``) are not
in order. FHIRPath calls that unknown (empty), and the reference validator then counts per-1 as
failed (its official test case encounter-period); this server, which takes an empty result as
holding, must say false to agree. Quantities are compared by value when their units are the
same (unknown otherwise: this server converts no units), a primitive that has only extensions
not at all (empty); anything else goes to the engine.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from fhirpathpy.engine.invocations import equality
from fhirpathpy.engine.util import get_data

_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?")
_UNKNOWN = object()
Parts = tuple[list[int], Decimal | None, timedelta | None]  # [y, m, d, h, min], seconds, offset


def _date_parts(text: str) -> Parts | None:
    m = _DATE.fullmatch(text)
    if m is None:
        return None
    y, mo, d, h, mi, s, frac, tz = m.groups()
    fields = [int(v) for v in (y, mo, d, h, mi) if v is not None]
    seconds = Decimal(s + (frac or "")) if s is not None else None
    offset = None
    if tz is not None:
        sign = -1 if tz.startswith("-") else 1
        offset = timedelta() if tz == "Z" else sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6]))
    return fields, seconds, offset


def _in_utc(parts: Parts) -> list[Any]:
    """Components of a value with a time, moved to UTC (no offset given: taken as UTC)."""
    fields, seconds, offset = parts
    y, mo, d, h, mi = fields
    moment = datetime(y, mo, d, h, mi, tzinfo=timezone(offset or timedelta())).astimezone(timezone.utc)
    out: list[Any] = [moment.year, moment.month, moment.day, moment.hour, moment.minute]
    return out + ([seconds] if seconds is not None else [])


def compare_dates(a: str, b: str) -> int | None | object:
    """-1, 0, 1; None when precision leaves it open; ``_UNKNOWN`` when either is not a date."""
    pa, pb = _date_parts(a), _date_parts(b)
    if pa is None or pb is None:
        return _UNKNOWN
    try:
        if len(pa[0]) > 3 and len(pb[0]) > 3:  # both have a time: compare the instants
            ca, cb = _in_utc(pa), _in_utc(pb)
        else:  # one has no time: the dates as written, as far as both go
            ca, cb = pa[0], pb[0]
    except (ValueError, OverflowError):
        return _UNKNOWN  # not a real date (the structure validation says so)
    for x, y in zip(ca, cb):
        if x != y:
            return -1 if x < y else 1
    return 0 if len(ca) == len(cb) else None


def compare_quantities(a: dict[str, Any], b: dict[str, Any]) -> int | None:
    """By value when the units are the same (code and system, else the unit text); None otherwise
    (no value on either side included)."""
    try:
        va, vb = Decimal(str(a["value"])), Decimal(str(b["value"]))
    except (KeyError, InvalidOperation, TypeError, ValueError):
        return None
    unit_a = (a.get("system"), a.get("code")) if a.get("code") is not None else a.get("unit")
    unit_b = (b.get("system"), b.get("code")) if b.get("code") is not None else b.get("unit")
    if unit_a != unit_b:
        return None
    return (va > vb) - (va < vb)


def _operator(test: Callable[[int], bool], engine: Callable[..., Any]) -> Callable[..., Any]:
    def compare(left: list[Any], right: list[Any]) -> Any:
        a, b = left, [get_data(r) for r in right]
        if len(a) == 1 and len(b) == 1:
            x, y = a[0], b[0]
            if isinstance(x, str) and isinstance(y, str):
                found = compare_dates(x, y)
                if found is not _UNKNOWN:
                    return False if found is None else test(found)  # type: ignore[arg-type]
            elif isinstance(x, dict) and isinstance(y, dict):
                found = compare_quantities(x, y)
                return [] if found is None else test(found)  # type: ignore[arg-type]
            elif (isinstance(x, dict) and "value" not in x) or (isinstance(y, dict) and "value" not in y):
                return []  # a primitive with extensions and no value: nothing to compare
        return engine(None, a, b)

    return compare


#: for the engine's ``userInvocationTable``
OPERATORS = {
    op: {"fn": _operator(test, engine), "arity": {2: ["Any", "Any"]}, "nullable": True}
    for op, test, engine in (
        ("<", lambda c: c < 0, equality.lt),
        ("<=", lambda c: c <= 0, equality.lte),
        (">", lambda c: c > 0, equality.gt),
        (">=", lambda c: c >= 0, equality.gte),
    )
}
