"""Reference rows (relative, absolute, urn, canonical, contained, identifier) and terms."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings

from server.fhir.outcome import FhirError
from server.fhir.search.references import reference_term, reference_values
from server.fhir.search.test_dates import holds
from server.fhir.search.test_strings import json_nodes
from server.storage.index import ANY, Cond, ReferenceValue, TokenMatch, TokenValue, ValueMatch


def rows(node: Any) -> list[Any]:
    return list(reference_values("subject", node))


def test_reference_rows() -> None:
    assert rows({"reference": "Patient/123"}) == [ReferenceValue("subject", "Patient/123")]
    assert rows({"reference": "Patient/123/_history/4"}) == [ReferenceValue("subject", "Patient/123")]
    # absolute: by URL only (another server's Patient/123 is not ours)
    assert rows({"reference": "https://bv-a.vn/fhir/Patient/123/_history/2"}) == [ReferenceValue("subject", "https://bv-a.vn/fhir/Patient/123")]
    assert rows({"reference": "urn:uuid:3628587e-c46b-4129-9e62-48070b1913dc"}) == [ReferenceValue("subject", "urn:uuid:3628587e-c46b-4129-9e62-48070b1913dc")]
    assert rows({"reference": "#p1"}) == []
    assert rows({"display": "Nguyễn Văn A"}) == []
    assert rows({"reference": "Patient/1", "identifier": {"system": "https://lienthong.dev/fhir/sid/cccd", "value": "0010"}}) == [
        ReferenceValue("subject", "Patient/1"),
        TokenValue("subject:identifier", "http://fhir.ehealth.gov.vn/core/sid/national_id", "0010"),  # the canonical system
    ]
    assert rows({"identifier": {"value": "0010"}}) == [TokenValue("subject:identifier", None, "0010")]


def test_canonical_rows() -> None:
    assert rows("http://hl7.org/fhir/Questionnaire/phq-9") == [ReferenceValue("subject", "http://hl7.org/fhir/Questionnaire/phq-9")]
    assert rows("http://x.vn/PlanDefinition/p|2.0") == [ReferenceValue("subject", "http://x.vn/PlanDefinition/p"), ReferenceValue("subject", "http://x.vn/PlanDefinition/p|2.0")]


def vm(*targets: str) -> ValueMatch:
    cond = Cond("target", "eq", targets[0]) if len(targets) == 1 else Cond("target", "in", targets)
    return ValueMatch("subject", "reference", (cond,))


def test_reference_terms() -> None:
    targets = ("Group", "Patient")
    assert reference_term("subject", "", "Patient/123", targets) == vm("Patient/123")
    assert reference_term("subject", "", "Patient/123/_history/9", targets) == vm("Patient/123")
    assert reference_term("subject", "", "123", targets) == vm("Group/123", "Patient/123")
    assert reference_term("subject", "Patient", "123", targets) == vm("Patient/123")
    assert reference_term("subject", "Patient", "Patient/123", targets) == vm("Patient/123")
    assert reference_term("subject", "", "https://bv-a.vn/fhir/Patient/123", targets) == vm("https://bv-a.vn/fhir/Patient/123")
    assert reference_term("subject", "", "urn:uuid:abc", targets) == vm("urn:uuid:abc")
    assert reference_term("subject", "", "http://x.vn/PlanDefinition/p|2.0", targets) == vm("http://x.vn/PlanDefinition/p|2.0")
    for dialect in ("https://lienthong.dev/fhir/sid/cccd", "http://fhir.hl7.org.vn/core/sid/cccd", "http://fhir.ehealth.gov.vn/core/sid/national_id"):
        assert reference_term("subject", "identifier", f"{dialect}|0010", targets) == TokenMatch("subject:identifier", "http://fhir.ehealth.gov.vn/core/sid/national_id", "0010")
    assert reference_term("subject", "identifier", "0010", targets) == TokenMatch("subject:identifier", ANY, "0010")
    assert reference_term("subject", "below", "x", targets) is None
    assert reference_term("subject", "text", "x", targets) is None


def test_reference_terms_match_rows() -> None:
    local = rows({"reference": "Patient/123"})
    remote = rows({"reference": "https://bv-a.vn/fhir/Patient/123"})
    assert holds(reference_term("subject", "", "123", ("Patient", "Group")), local)
    assert not holds(reference_term("subject", "", "123", ("Patient", "Group")), remote)
    assert not holds(reference_term("subject", "", "Patient/123", ()), remote)
    assert holds(reference_term("subject", "", "https://bv-a.vn/fhir/Patient/123", ()), remote)


@pytest.mark.parametrize(
    ("modifier", "value", "targets"),
    [("Device", "1", ("Group", "Patient")), ("Patient", "Group/1", ("Group", "Patient")), ("", "123", ()), ("", "#c", ("Patient",))],
)
def test_reference_term_errors(modifier: str, value: str, targets: tuple[str, ...]) -> None:
    with pytest.raises(FhirError) as exc:
        reference_term("subject", modifier, value, targets)
    assert exc.value.status == 400


@settings(max_examples=300, deadline=None)
@given(json_nodes)
def test_reference_extractor_never_raises(node: Any) -> None:
    for row in reference_values("p", node):
        if isinstance(row, ReferenceValue):
            assert isinstance(row.target, str) and row.target
        else:
            assert isinstance(row, TokenValue) and row.param == "p:identifier"
