"""Number and quantity rows, and the precision semantics of their query values."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.fhir.outcome import FhirError
from server.fhir.search.numbers import CURRENCY_SYSTEM, implicit_range, number_term, number_values, quantity_term, quantity_values
from server.fhir.search.test_dates import holds
from server.fhir.search.test_strings import json_nodes
from server.storage.index import AnyOf, Cond, NumberValue, QuantityValue, ValueMatch

UCUM = "http://unitsofmeasure.org"


# -------------------------------------------------------------------------- extraction


def test_number_rows() -> None:
    assert list(number_values("probability", Decimal("0.35"))) == [NumberValue("probability", 0.35)]
    assert list(number_values("n", 7)) == [NumberValue("n", 7.0)]
    assert list(number_values("n", True)) == []
    assert list(number_values("n", "5")) == []
    assert list(number_values("n", 10**400)) == []


def test_quantity_rows() -> None:
    q = {"value": Decimal("168.6"), "unit": "mm[Hg]", "system": UCUM, "code": "mm[Hg]"}
    assert list(quantity_values("value-quantity", q)) == [QuantityValue("value-quantity", 168.6, UCUM, "mm[Hg]")]
    q = {"value": 5, "unit": "miligam", "system": UCUM, "code": "mg"}
    assert list(quantity_values("value-quantity", q)) == [QuantityValue("value-quantity", 5.0, UCUM, "mg"), QuantityValue("value-quantity", 5.0, None, "miligam")]
    assert list(quantity_values("value-quantity", {"value": 5, "unit": "viên"})) == [QuantityValue("value-quantity", 5.0, None, "viên")]
    assert list(quantity_values("value-quantity", {"value": 5})) == [QuantityValue("value-quantity", 5.0, None, None)]
    assert list(quantity_values("age", {"value": 3, "system": UCUM, "code": "a", "comparator": ">"})) == [QuantityValue("age", 3.0, UCUM, "a")]
    assert list(quantity_values("price-override", {"value": Decimal("150000"), "currency": "VND"})) == [QuantityValue("price-override", 150000.0, CURRENCY_SYSTEM, "VND")]
    assert list(quantity_values("value-quantity", {"low": {"value": 1}, "high": {"value": 2}})) == []  # Range
    assert list(quantity_values("value-quantity", {"origin": {"value": 0}, "data": "1 2 3"})) == []  # SampledData


# ---------------------------------------------------------------------------- precision


@pytest.mark.parametrize(
    ("text", "lo", "hi"),
    [
        ("5.4", "5.35", "5.45"),
        ("100", "99.5", "100.5"),
        ("100.00", "99.995", "100.005"),
        ("1e2", "50", "150"),  # one significant figure
        ("1.0e2", "95", "105"),  # two
        ("0.001", "0.0005", "0.0015"),
        ("-5.4", "-5.45", "-5.35"),
        ("0", "-0.5", "0.5"),
        ("2.50E-1", "0.2495", "0.2505"),
    ],
)
def test_implicit_range(text: str, lo: str, hi: str) -> None:
    assert implicit_range(Decimal(text)) == (Decimal(lo), Decimal(hi))


def vm(*conds: Cond, param: str = "n", kind: str = "number") -> ValueMatch:
    return ValueMatch(param, kind, conds)


def test_number_terms() -> None:
    assert number_term("n", "5.4") == vm(Cond("value", "ge", 5.35), Cond("value", "lt", 5.45))
    assert number_term("n", "eq100") == vm(Cond("value", "ge", 99.5), Cond("value", "lt", 100.5))
    assert number_term("n", "ne100") == AnyOf((vm(Cond("value", "lt", 99.5)), vm(Cond("value", "ge", 100.5))))
    assert number_term("n", "lt100") == vm(Cond("value", "lt", 100.0))
    assert number_term("n", "le100") == vm(Cond("value", "le", 100.0))
    assert number_term("n", "gt100") == vm(Cond("value", "gt", 100.0))
    assert number_term("n", "ge100") == vm(Cond("value", "ge", 100.0))
    assert number_term("n", "sa100") == vm(Cond("value", "ge", 100.5))
    assert number_term("n", "eb100") == vm(Cond("value", "lt", 99.5))
    assert number_term("n", "ap100") == vm(Cond("value", "ge", 90.0), Cond("value", "le", 110.0))
    assert number_term("n", "ap0.001") == vm(Cond("value", "ge", 0.0005), Cond("value", "le", 0.0015))  # never narrower than the precision


SEARCH_100 = {
    "eq": {"99.5", "100", "100.49"},
    "ne": {"99.4", "100.5", "101", "111"},
    "lt": {"99.4", "99.5"},
    "le": {"99.4", "99.5", "100"},
    "gt": {"100.49", "100.5", "101", "111"},
    "ge": {"100", "100.49", "100.5", "101", "111"},
    "sa": {"100.5", "101", "111"},
    "eb": {"99.4"},
    "ap": {"99.4", "99.5", "100", "100.49", "100.5", "101"},
}


@pytest.mark.parametrize("prefix", SEARCH_100)
def test_number_semantics(prefix: str) -> None:
    values = ["99.4", "99.5", "100", "100.49", "100.5", "101", "111"]
    matched = {v for v in values if holds(number_term("n", f"{prefix}100"), number_values("n", Decimal(v)))}
    assert matched == SEARCH_100[prefix]


def test_quantity_terms() -> None:
    q = "value-quantity"
    assert quantity_term(q, "gt100|http://unitsofmeasure.org|mm[Hg]") == vm(
        Cond("value", "gt", 100.0), Cond("system", "eq", UCUM), Cond("code", "eq", "mm[Hg]"), param=q, kind="quantity"
    )
    assert quantity_term(q, "5.4||mg") == vm(Cond("value", "ge", 5.35), Cond("value", "lt", 5.45), Cond("code", "eq", "mg"), param=q, kind="quantity")
    assert quantity_term(q, "5.4") == vm(Cond("value", "ge", 5.35), Cond("value", "lt", 5.45), param=q, kind="quantity")
    assert quantity_term(q, "ne5||mg") == AnyOf(
        (vm(Cond("value", "lt", 4.5), Cond("code", "eq", "mg"), param=q, kind="quantity"), vm(Cond("value", "ge", 5.5), Cond("code", "eq", "mg"), param=q, kind="quantity"))
    )


def test_quantity_semantics() -> None:
    coded = list(quantity_values("q", {"value": Decimal("5.4"), "system": UCUM, "code": "mg", "unit": "miligam"}))
    unit_only = list(quantity_values("q", {"value": Decimal("5.4"), "unit": "viên"}))
    assert holds(quantity_term("q", "5.4|http://unitsofmeasure.org|mg"), coded)
    assert holds(quantity_term("q", "5.4||mg"), coded)
    assert holds(quantity_term("q", "5.4||miligam"), coded)
    assert not holds(quantity_term("q", "5.4|http://unitsofmeasure.org|miligam"), coded)
    assert not holds(quantity_term("q", "5.4|http://unitsofmeasure.org|g"), coded)
    assert holds(quantity_term("q", "5.4||viên"), unit_only)
    assert holds(quantity_term("q", "gt5"), unit_only)
    assert holds(quantity_term("q", "5||viên"), unit_only)  # 5 means [4.5, 5.5)
    assert not holds(quantity_term("q", "5.0||viên"), unit_only)
    # the unit and the value must hold on the same row
    two = [*quantity_values("q", {"value": 5, "code": "mg", "system": UCUM}), *quantity_values("q", {"value": 50, "code": "g", "system": UCUM})]
    assert not holds(quantity_term("q", "gt10|http://unitsofmeasure.org|mg"), two)


@pytest.mark.parametrize("bad", ["abc", "5,4", "5.4.1", "1e", "gt", ".5", "nan", "inf", "1e999", "0x10", "5 mg"])
def test_bad_numbers(bad: str) -> None:
    for parse in (number_term, quantity_term):
        with pytest.raises(FhirError) as exc:
            parse("n", bad)
        assert exc.value.status == 400 and exc.value.issues[0].expression == ("n",)


@pytest.mark.parametrize("bad", ["5.4|mg", "1|a|b|c", "x||mg"])
def test_bad_quantities(bad: str) -> None:
    with pytest.raises(FhirError):
        quantity_term("q", bad)


@settings(max_examples=300, deadline=None)
@given(json_nodes)
def test_number_extractors_never_raise(node: Any) -> None:
    for row in number_values("p", node):
        assert isinstance(row, NumberValue) and isinstance(row.value, float)
    for qrow in quantity_values("p", node):
        assert isinstance(qrow, QuantityValue) and isinstance(qrow.value, float)
        assert all(v is None or isinstance(v, str) for v in (qrow.system, qrow.code))


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-10**12, max_value=10**12, places=4))
def test_a_written_value_matches_its_own_eq(value: Decimal) -> None:
    text = str(value)
    if "E" in text.upper() and not any(c.isdigit() for c in text.split("E")[0]):
        return
    assert holds(number_term("n", text), number_values("n", value))
