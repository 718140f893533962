"""FHIRPath ordering of instance dates and quantities (fhirpathpy compares them as strings and dicts)."""

from __future__ import annotations

import pytest

from server.fhir.profiling.fhirpath import holds
from server.fhir.profiling.ordering import compare_dates, compare_quantities


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("2026-01-01", "2026-01-02", -1),
    ("2026-01-01T10:00:00+07:00", "2026-01-01T04:00:00Z", -1),  # 03:00Z: a string comparison says the opposite
    ("2026-01-01T23:00:00-05:00", "2026-01-02T01:00:00Z", 1),  # 04:00Z on the 2nd
    ("2026-01-01T10:00:00+07:00", "2026-01-01T03:00:00Z", 0),
    ("2026-01-01T03:00:00.5Z", "2026-01-01T03:00:00Z", 1),
    ("2026", "2027-01", -1),
    ("2026-02", "2026-01-31", 1),
    ("2026-01-01", "2026-01-01T06:20:00Z", None),  # equal as far as both go: open
    ("2026", "2026-06", None),
])
def test_dates(a: str, b: str, expected: int | None) -> None:
    assert compare_dates(a, b) == expected
    assert compare_dates(b, a) == (None if expected is None else -expected)


def test_not_dates_are_left_to_the_engine() -> None:
    assert compare_dates("abc", "2026") is not None and compare_dates("abc", "2026") not in (-1, 0, 1)
    assert compare_dates("2026-02-30", "2026-03-01") == -1  # as written: the structure validation reports the day


def test_quantities_by_value_in_the_same_unit() -> None:
    mg = {"system": "http://unitsofmeasure.org", "code": "mg"}
    assert compare_quantities(dict(mg, value=1), dict(mg, value=2)) == -1
    assert compare_quantities(dict(mg, value=2.0), dict(mg, value=2)) == 0
    assert compare_quantities({"value": 3, "unit": "viên"}, {"value": 2, "unit": "viên"}) == 1
    assert compare_quantities(dict(mg, value=1), {"value": 1, "system": "http://unitsofmeasure.org", "code": "g"}) is None
    assert compare_quantities(dict(mg), dict(mg, value=1)) is None


PER_1 = "start.hasValue().not() or end.hasValue().not() or (start <= end)"


def test_the_engine_uses_them() -> None:
    assert holds(PER_1, {"start": "2026-01-01T10:00:00+07:00", "end": "2026-01-01T04:00:00Z"}, "Period", {})
    assert not holds(PER_1, {"start": "2026-01-01T12:00:00+07:00", "end": "2026-01-01T04:00:00Z"}, "Period", {})
    # open at this precision: not in order, as the reference validator decides (its case encounter-period)
    assert not holds(PER_1, {"start": "2026-01-01", "end": "2026-01-01T06:20:00Z"}, "Period", {})
    assert holds(PER_1, {"start": "2026-01-01", "end": "2026-01-02T06:20:00Z"}, "Period", {})
    assert holds(PER_1, {"_start": {"extension": [{"url": "urn:x", "valueString": "a"}]}, "end": "2026-01-01"}, "Period", {})  # hasValue()
    rng = "low.empty() or high.empty() or (low <= high)"
    assert not holds(rng, {"low": {"value": 5, "unit": "mg"}, "high": {"value": 2, "unit": "mg"}}, "Range", {})
    assert holds(rng, {"low": {"value": 1, "unit": "mg"}, "high": {"value": 2, "unit": "mg"}}, "Range", {})
    assert holds("@2026-01-01 < @2027", {}, None, {})  # literals: the engine's own
    assert holds("1 < 2", {}, None, {}) and not holds("'b' < 'a'", {}, None, {})
