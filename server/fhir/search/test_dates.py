"""Date rows (dates, Periods with open ends, Timing) and the R4 prefix semantics, checked
on concrete ranges with :func:`holds`, a reference evaluator of terms over index rows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

import pytest
from hypothesis import given, settings

from server.fhir.dates import to_us
from server.fhir.outcome import FhirError
from server.fhir.search.dates import DATE_MAX, DATE_MIN, approximation, date_term, date_values
from server.fhir.search.test_strings import json_nodes
from server.storage.index import ANY, All, AnyOf, Cond, DateValue, IndexValue, Not, Term, TokenMatch, TokenValue, ValueMatch

VN = timezone(timedelta(hours=7))
US = 1_000_000


# ----------------------------------------------------- a reference evaluator of terms (shared)


def _cond(row: IndexValue, cond: Cond) -> bool:
    value = getattr(row, cond.column)
    want = cond.value
    if cond.op == "eq":
        return value == want
    if cond.op == "ne":
        return value != want
    if cond.op == "in":
        assert isinstance(want, tuple)
        return value in want
    if value is None:
        return False
    if cond.op == "prefix":
        return str(value).startswith(str(want))
    if cond.op == "contains":
        return str(want) in str(value)
    assert want is not None and not isinstance(want, tuple)
    return {"lt": value < want, "le": value <= want, "gt": value > want, "ge": value >= want}[cond.op]  # type: ignore[operator]


def holds(term: Term, rows: Iterable[IndexValue]) -> bool:
    """Whether a resource with these index rows matches ``term`` (row-level ValueMatch)."""
    rows = list(rows)
    if isinstance(term, ValueMatch):
        return any(row.param == term.param and all(_cond(row, c) for c in term.conds) for row in rows)
    if isinstance(term, TokenMatch):
        return any(
            isinstance(row, TokenValue)
            and row.param == term.param
            and (term.system is ANY or row.system == term.system)
            and (term.code is None or row.code == term.code)
            for row in rows
        )
    if isinstance(term, AnyOf):
        return any(holds(t, rows) for t in term.terms)
    if isinstance(term, All):
        return all(holds(t, rows) for t in term.terms)
    if isinstance(term, Not):
        return not holds(term.term, rows)
    raise AssertionError(f"not a term this evaluator knows: {term!r}")


def us(*args: int, tz: timezone = VN) -> int:
    return to_us(datetime(*args, tzinfo=tz))


# -------------------------------------------------------------------------- extraction


def test_date_strings_cover_their_precision() -> None:
    assert list(date_values("birthdate", "1957-07-04")) == [DateValue("birthdate", us(1957, 7, 4), us(1957, 7, 5) - 1)]
    assert list(date_values("date", "2025-06")) == [DateValue("date", us(2025, 6, 1), us(2025, 7, 1) - 1)]
    assert list(date_values("date", "2025-06-01T09:00:00Z")) == [DateValue("date", us(2025, 6, 1, 9, 0, 0, tz=timezone.utc), us(2025, 6, 1, 9, 0, 1, tz=timezone.utc) - 1)]
    assert list(date_values("date", "2025-06-01T09:00:00.5+07:00")) == [DateValue("date", us(2025, 6, 1, 9) + US // 2, us(2025, 6, 1, 9) + 6 * US // 10 - 1)]  # a tenth of a second
    assert list(date_values("date", "2025-13-01")) == []
    assert list(date_values("date", "hôm qua")) == []


def test_periods_and_open_ends() -> None:
    assert list(date_values("date", {"start": "2025-06-01", "end": "2025-06-03"})) == [DateValue("date", us(2025, 6, 1), us(2025, 6, 4) - 1)]
    assert list(date_values("date", {"start": "2025-06-01"})) == [DateValue("date", us(2025, 6, 1), DATE_MAX)]
    assert list(date_values("date", {"end": "2025-06-03"})) == [DateValue("date", DATE_MIN, us(2025, 6, 4) - 1)]
    assert list(date_values("date", {"start": "bad", "end": "2025-06-03"})) == []
    assert DATE_MIN < us(1, 1, 2) and DATE_MAX > us(9999, 12, 31)


def test_timing_events_and_bounds() -> None:
    timing = {"event": ["2025-06-01T08:00:00+07:00", "2025-06-02"], "repeat": {"boundsPeriod": {"start": "2025-06-01", "end": "2025-06-30"}, "frequency": 2}}
    assert list(date_values("date", timing)) == [
        DateValue("date", us(2025, 6, 1, 8), us(2025, 6, 1, 8, 0, 1) - 1),
        DateValue("date", us(2025, 6, 2), us(2025, 6, 3) - 1),
        DateValue("date", us(2025, 6, 1), us(2025, 7, 1) - 1),
    ]
    assert list(date_values("date", {"repeat": {"boundsDuration": {"value": 5, "unit": "d"}}})) == []


# ------------------------------------------------------------------------------ terms

SL, SH = us(2025, 6, 1), us(2025, 7, 1) - 1  # "2025-06" as a search value


def test_terms_are_row_level() -> None:
    def vm(*conds: Cond) -> ValueMatch:
        return ValueMatch("date", "date", conds)

    within = vm(Cond("low", "ge", SL), Cond("high", "le", SH))
    assert date_term("date", "2025-06") == within
    assert date_term("date", "eq2025-06") == within
    assert date_term("date", "ne2025-06") == AnyOf((vm(Cond("low", "lt", SL)), vm(Cond("high", "gt", SH))))
    assert date_term("date", "gt2025-06") == vm(Cond("high", "gt", SH))
    assert date_term("date", "lt2025-06") == vm(Cond("low", "lt", SL))
    assert date_term("date", "ge2025-06") == AnyOf((vm(Cond("high", "gt", SH)), within))
    assert date_term("date", "le2025-06") == AnyOf((vm(Cond("low", "lt", SL)), within))
    assert date_term("date", "sa2025-06") == vm(Cond("low", "gt", SH))
    assert date_term("date", "eb2025-06") == vm(Cond("high", "lt", SL))
    now = us(2026, 6, 1)
    d = (now - SH) // 10
    assert approximation(SL, SH, now) == d
    assert date_term("date", "ap2025-06", now=now) == vm(Cond("low", "le", SH + d), Cond("high", "ge", SL - d))


# value → which prefixes match the search value 2025-06
CASES: dict[str, tuple[Any, set[str]]] = {
    "inside": ("2025-06-15", {"eq", "ge", "le"}),
    "overlaps the start": ({"start": "2025-05-20", "end": "2025-06-10"}, {"ne", "lt", "le"}),
    "after": ("2025-07-02", {"ne", "gt", "ge", "sa"}),
    "before": ("2025-05-01", {"ne", "lt", "le", "eb"}),
    "open-ended from inside": ({"start": "2025-06-10"}, {"ne", "gt", "ge"}),
    "the whole year": ("2025", {"ne", "gt", "lt", "ge", "le"}),
    "the same month": ("2025-06", {"eq", "ge", "le"}),
    "last instant of the month": ("2025-06-30T23:59:59.999999+07:00", {"eq", "ge", "le"}),
    "first instant after, in UTC": ("2025-06-30T17:00:00Z", {"ne", "gt", "ge", "sa"}),
}


@pytest.mark.parametrize("name", CASES)
def test_prefix_semantics_on_concrete_ranges(name: str) -> None:
    value, expected = CASES[name]
    rows = list(date_values("date", value))
    assert rows
    matched = {p for p in ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb") if holds(date_term("date", f"{p}2025-06"), rows)}
    assert matched == expected


def test_row_level_not_across_values() -> None:
    # one value before and one after June: neither lies within June, so eq must not match
    rows = [*date_values("date", "2025-05-01"), *date_values("date", "2025-07-02")]
    assert not holds(date_term("date", "eq2025-06"), rows)
    assert holds(date_term("date", "ne2025-06"), rows)
    assert not holds(date_term("date", "ne2025-06"), [])  # no value: ne does not match


def test_ap_is_ten_percent_of_the_gap_to_now() -> None:
    now = us(2026, 6, 1)  # about 11 months after June 2025: about 33 days either side
    def ap(value: str) -> bool:
        return holds(date_term("date", "ap2025-06", now=now), date_values("date", value))
    assert ap("2025-06-20") and ap("2025-07-25") and ap("2025-05-05")
    assert not ap("2025-08-15") and not ap("2025-04-15")
    # near now the window is at least a day
    assert approximation(now, now + 10, now) == 86_400 * US


@pytest.mark.parametrize("bad", ["2025-13", "ge2025-02-30", "xx2025", "2025-06-01T10:00+25:00", "yesterday", "ge", "2025/06/01"])
def test_invalid_dates_are_400_naming_the_parameter(bad: str) -> None:
    with pytest.raises(FhirError) as exc:
        date_term("birthdate", bad)
    assert exc.value.status == 400
    assert exc.value.issues[0].expression == ("birthdate",)
    assert "birthdate" in exc.value.issues[0].diagnostics


@settings(max_examples=300, deadline=None)
@given(json_nodes)
def test_date_extractor_never_raises(node: Any) -> None:
    for row in date_values("p", node):
        assert isinstance(row, DateValue) and isinstance(row.low, int) and isinstance(row.high, int)
