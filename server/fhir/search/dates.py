"""Date search values and the parsing of date query values (prefixes included).

Parsing text into ranges is :mod:`server.fhir.dates` (``parse_range``: the instants a
date, dateTime or instant covers, local zone UTC+07:00 when none is given). Here:

Extraction (:func:`date_values`) — one :class:`DateValue` ``[low, high]`` per value:

* a date, dateTime or instant string: the range it covers (``2025-06`` is all of June);
* Period: ``[low(start), high(end)]``; an open end is :data:`DATE_MIN` / :data:`DATE_MAX`;
* Timing: each ``event``, and ``repeat.boundsPeriod`` as a Period;
* anything else, or text that is not a valid date, contributes nothing.

Query (:func:`date_term`) — R4 search, "date" prefixes, comparing the search range
``[sl, sh]`` with each value range ``[rl, rh]``; every condition holds on ONE row:

=====  ==========================================================  ===================
 eq    the search range fully contains the value range               rl >= sl and rh <= sh
 ne    the search range does not fully contain the value range       rl < sl  or  rh > sh
 gt    the range above the search range overlaps the value           rh > sh
 lt    the range below the search range overlaps the value           rl < sl
 ge    gt, or eq                                                     rh > sh  or (eq)
 le    lt, or eq                                                     rl < sl  or (eq)
 sa    the value starts after the search range (no overlap)          rl > sh
 eb    the value ends before the search range (no overlap)           rh < sl
 ap    the value overlaps the search range widened on both sides     rl <= sh + d and rh >= sl - d
       by d = 10% of the gap between now and the search range
       (its nearer end; at least one day)
=====  ==========================================================  ===================

``ne`` is a condition on a value, like the other prefixes: a resource with no value for the
parameter does not match ``ne`` (that is what ``:missing`` or ``:not`` are for).
"""

from __future__ import annotations

import time
from functools import lru_cache
from datetime import datetime, timezone
from typing import Any, Iterator

from ...storage.index import AnyOf, Cond, DateValue, Term, ValueMatch
from ..dates import DateFormatError, parse_range, range_param, to_us

#: the low end of a Period without a start, the high end of one without an end
DATE_MIN = to_us(datetime(1, 1, 1, tzinfo=timezone.utc))
DATE_MAX = to_us(datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone.utc))

PREFIXES = frozenset({"eq", "ne", "lt", "le", "gt", "ge", "sa", "eb", "ap"})
_DAY_US = 86_400 * 1_000_000


def _range(text: Any) -> tuple[int, int] | None:
    if not isinstance(text, str):
        return None
    # memoised (one date often feeds several parameters: date, code-value-date...), but
    # only text short enough to be a date: a FHIR instant is at most 35 characters
    return _parsed_cached(text) if len(text) <= 40 else None


def _parsed(text: str) -> tuple[int, int] | None:
    try:
        return parse_range(text)
    except DateFormatError:
        return None


_parsed_cached = lru_cache(maxsize=4096)(_parsed)


def _period(param: str, node: dict[str, Any]) -> DateValue | None:
    start, end = node.get("start"), node.get("end")
    if start is None and end is None:
        return None
    low = DATE_MIN
    if start is not None:
        r = _range(start)
        if r is None:
            return None
        low = r[0]
    high = DATE_MAX
    if end is not None:
        r = _range(end)
        if r is None:
            return None
        high = r[1]
    return DateValue(param, low, high)


def date_values(param: str, node: Any) -> Iterator[DateValue]:
    """The date rows one selected JSON node contributes."""
    if isinstance(node, str):
        r = _range(node)
        if r is not None:
            yield DateValue(param, r[0], r[1])
    elif isinstance(node, dict):
        if "start" in node or "end" in node:
            row = _period(param, node)
            if row is not None:
                yield row
        elif "event" in node or "repeat" in node:  # Timing
            events = node.get("event")
            for event in events if isinstance(events, list) else [events]:
                r = _range(event)
                if r is not None:
                    yield DateValue(param, r[0], r[1])
            repeat = node.get("repeat")
            bounds = repeat.get("boundsPeriod") if isinstance(repeat, dict) else None
            if isinstance(bounds, dict):
                row = _period(param, bounds)
                if row is not None:
                    yield row


def split_prefix(value: str) -> tuple[str, str]:
    """``ge2025-01`` → ``("ge", "2025-01")``; no prefix → ``("eq", value)``."""
    if value[:2] in PREFIXES:
        return value[:2], value[2:]
    return "eq", value


def date_term(param: str, value: str, *, now: int | None = None) -> Term:
    """ONE date query value (``[prefix]date``) as a term, per the table above.

    ``now`` (microseconds since the epoch) is only for ``ap``; it defaults to the clock.
    Raises a 400 :class:`~server.fhir.outcome.FhirError` naming ``param`` for invalid input.
    """
    prefix, text = split_prefix(value)
    sl, sh = range_param(param, text)

    def row(*conds: Cond) -> ValueMatch:
        return ValueMatch(param, "date", conds)

    within = row(Cond("low", "ge", sl), Cond("high", "le", sh))
    match prefix:
        case "eq":
            return within
        case "ne":
            return AnyOf((row(Cond("low", "lt", sl)), row(Cond("high", "gt", sh))))
        case "gt":
            return row(Cond("high", "gt", sh))
        case "lt":
            return row(Cond("low", "lt", sl))
        case "ge":
            return AnyOf((row(Cond("high", "gt", sh)), within))
        case "le":
            return AnyOf((row(Cond("low", "lt", sl)), within))
        case "sa":
            return row(Cond("low", "gt", sh))
        case "eb":
            return row(Cond("high", "lt", sl))
        case _:  # ap
            d = approximation(sl, sh, now)
            return row(Cond("low", "le", sh + d), Cond("high", "ge", sl - d))


def approximation(sl: int, sh: int, now: int | None = None) -> int:
    """How far ``ap`` widens ``[sl, sh]`` on each side: 10% of the gap between now and
    the range's nearer end (zero inside the range), and never less than one day."""
    if now is None:
        now = time.time_ns() // 1000
    gap = sl - now if now < sl else now - sh if now > sh else 0
    return max(gap // 10, _DAY_US)
