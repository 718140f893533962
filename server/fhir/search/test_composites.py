"""Composite parameters: component resolution, the keyed rows, and terms that hold on the
same element (a blood-pressure panel's systolic value with the systolic code)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings

from server.fhir.outcome import FhirError
from server.fhir.search.composites import composite_spec, composite_term, composite_values
from server.fhir.search.dates import date_term
from server.fhir.search.extract import extract_index
from server.fhir.search.numbers import quantity_term
from server.fhir.search.registry import SearchRegistry
from server.fhir.search.strings import string_term
from server.fhir.search.test_dates import holds
from server.fhir.search.test_strings import json_nodes
from server.storage.index import ANY, AnyOf, QuantityValue, TokenMatch, TokenValue

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
REGISTRY = SearchRegistry({"Observation", "DocumentReference"})


def mmhg(value: str) -> dict[str, Any]:
    return {"value": Decimal(value), "unit": "mm[Hg]", "system": UCUM, "code": "mm[Hg]"}


BP = {
    "resourceType": "Observation",
    "status": "final",
    "code": {"coding": [{"system": LOINC, "code": "85354-9"}]},
    "component": [
        {"code": {"coding": [{"system": LOINC, "code": "8480-6"}]}, "valueQuantity": mmhg("120")},
        {"code": {"coding": [{"system": LOINC, "code": "8462-4"}, {"code": "tam-truong"}]}, "valueQuantity": mmhg("140")},
    ],
}


def test_components_resolve() -> None:
    spec = composite_spec("http://hl7.org/fhir/SearchParameter/Observation-component-code-value-quantity")
    assert spec is not None
    assert (spec.code, spec.first_kind, spec.second_kind) == ("component-code-value-quantity", "token", "quantity")
    relationship = composite_spec("DocumentReference-relationship")
    assert relationship is not None and (relationship.first_kind, relationship.second_kind) == ("reference", "token")
    assert relationship.first_targets == ("DocumentReference",)
    assert composite_spec("Observation-code") is None  # not a composite


def test_component_rows_keyed_by_code() -> None:
    rows = [r for r in extract_index(REGISTRY, BP) if r.param.startswith("component-code-value-quantity$")]
    assert rows == [
        QuantityValue("component-code-value-quantity$8480-6", 120.0, UCUM, "mm[Hg]"),
        QuantityValue("component-code-value-quantity$http://loinc.org|8480-6", 120.0, UCUM, "mm[Hg]"),
        QuantityValue("component-code-value-quantity$8462-4", 140.0, UCUM, "mm[Hg]"),
        QuantityValue("component-code-value-quantity$http://loinc.org|8462-4", 140.0, UCUM, "mm[Hg]"),
        QuantityValue("component-code-value-quantity$tam-truong", 140.0, UCUM, "mm[Hg]"),
        QuantityValue("component-code-value-quantity$|tam-truong", 140.0, UCUM, "mm[Hg]"),
    ]
    # combo-: the observation itself (no value here) and each component
    assert QuantityValue("combo-code-value-quantity$http://loinc.org|8480-6", 120.0, UCUM, "mm[Hg]") in extract_index(REGISTRY, BP)


def test_terms_hold_on_one_component() -> None:
    rows = extract_index(REGISTRY, BP)
    p = "component-code-value-quantity"
    assert holds(composite_term(p, "http://loinc.org|8480-6$lt130"), rows)
    assert not holds(composite_term(p, "http://loinc.org|8480-6$gt130"), rows)  # 140 is the diastolic
    assert holds(composite_term(p, "8462-4$gt130|http://unitsofmeasure.org|mm[Hg]"), rows)
    assert holds(composite_term(p, "|tam-truong$140"), rows)
    assert not holds(composite_term(p, "|8462-4$140"), rows)  # that coding has a system


def test_composite_terms() -> None:
    registry = REGISTRY
    param = registry.get("Observation", "code-value-quantity")
    assert param is not None
    name = "code-value-quantity$http://loinc.org|8480-6"
    assert composite_term(param, "http://loinc.org|8480-6$gt100") == quantity_term(name, "gt100")
    assert composite_term("code-value-quantity", "8480-6$gt100||mm[Hg]") == quantity_term("code-value-quantity$8480-6", "gt100||mm[Hg]")
    assert composite_term("code-value-concept", "http://loinc.org|72166-2$http://snomed.info/sct|8517006") == TokenMatch(
        "code-value-concept$http://loinc.org|72166-2", "http://snomed.info/sct", "8517006"
    )
    assert composite_term("code-value-date", "http://loinc.org|21112-8$ge2000") == date_term("code-value-date$http://loinc.org|21112-8", "ge2000")
    assert composite_term("code-value-string", "x$Âm tính") == string_term("code-value-string$x", "", "Âm tính")
    assert composite_term("relationship", "DocumentReference/9$replaces") == TokenMatch("relationship$DocumentReference/9", ANY, "replaces")
    assert composite_term("relationship", "9$replaces", "DocumentReference") == TokenMatch("relationship$DocumentReference/9", ANY, "replaces")


def test_relationship_rows() -> None:
    doc = {"resourceType": "DocumentReference", "status": "current", "content": [], "relatesTo": [{"code": "replaces", "target": {"reference": "DocumentReference/9"}}]}
    rows = [r for r in extract_index(REGISTRY, doc) if r.param.startswith("relationship")]
    assert rows == [TokenValue("relationship$DocumentReference/9", None, "replaces")]
    assert holds(composite_term("relationship", "DocumentReference/9$replaces"), rows)
    assert not holds(composite_term("relationship", "DocumentReference/9$appends"), rows)


@pytest.mark.parametrize("bad", ["8480-6", "$gt100", "8480-6$", "http://loinc.org|$gt100", "8480-6$gtx"])
def test_composite_term_errors(bad: str) -> None:
    with pytest.raises(FhirError) as exc:
        composite_term("code-value-quantity", bad)
    assert exc.value.status == 400


def test_unknown_composite_code() -> None:
    with pytest.raises(FhirError):
        composite_term("no-such-composite", "a$b")


def test_one_term_per_target_for_a_bare_id() -> None:
    term = composite_term("relationship", "9$replaces")
    assert not isinstance(term, AnyOf)


@settings(max_examples=300, deadline=None)
@given(json_nodes)
def test_composite_extractor_never_raises(node: Any) -> None:
    for code in ("code-value-quantity", "component-code-value-concept", "code-value-date", "code-value-string"):
        param = REGISTRY.get("Observation", code)
        assert param is not None
        for row in composite_values(param, node):
            assert row.param.startswith(code + "$")
    param = REGISTRY.get("DocumentReference", "relationship")
    assert param is not None
    for row in composite_values(param, node):
        assert isinstance(row, TokenValue)
