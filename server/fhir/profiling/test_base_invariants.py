"""The base R4 invariants: the data file, the skip list, and each rule failing and passing."""

from __future__ import annotations

import pytest

from server.fhir.profiling import base_invariants, validate
from server.fhir.profiling.fhirpath import NotEvaluable, holds

CONTAINED = [{"resourceType": "Organization", "id": "o1", "name": "BV"}]
#: a node per context on which the whole of each expression is evaluated
SAMPLES = {
    "Element": ({"family": "A"}, "HumanName"),
    "Extension": ({"url": "urn:x", "valueString": "a"}, "Extension"),
    "DomainResource": ({"resourceType": "Patient", "contained": CONTAINED, "managingOrganization": {"reference": "#o1"}}, "Patient"),
    "Patient.contact": ({"name": {"family": "B"}}, "Patient.contact"),
    "Observation": ({"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "urn:c", "code": "1"}]}, "valueString": "x", "component": [{"code": {"coding": [{"system": "urn:c", "code": "2"}]}}]}, "Observation"),
    "Observation.referenceRange": ({"text": "normal"}, "Observation.referenceRange"),
    "Condition": ({"resourceType": "Condition", "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "resolved"}]}, "abatementString": "gone", "category": [{"text": "x"}], "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]}, "subject": {"reference": "Patient/1"}}, "Condition"),
    "Condition.stage": ({"summary": {"text": "I"}}, "Condition.stage"),
    "Condition.evidence": ({"code": [{"text": "x"}]}, "Condition.evidence"),
    "Appointment": ({"resourceType": "Appointment", "status": "booked", "start": "2026-01-01T08:00:00Z", "end": "2026-01-01T09:00:00Z", "participant": [{"status": "accepted", "actor": {"reference": "Patient/1"}}]}, "Appointment"),
    "Appointment.participant": ({"status": "accepted", "actor": {"reference": "Patient/1"}}, "Appointment.participant"),
    "Bundle": ({"resourceType": "Bundle", "type": "document", "identifier": {"system": "urn:x", "value": "1"}, "timestamp": "2026-01-01T00:00:00Z",
                "entry": [{"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Composition", "id": "c"}}]}, "Bundle"),
    "Bundle.entry": ({"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient"}}, "Bundle.entry"),
}


def test_every_context_has_a_sample() -> None:
    assert {d["context"] for d in base_invariants.definitions()} == set(SAMPLES)


def test_the_skip_list_is_exactly_what_the_engine_cannot_evaluate() -> None:
    failing = set()
    for d in base_invariants.definitions():
        node, base = SAMPLES[d["context"]]
        try:
            holds(d["expression"], node, base, node)
        except NotEvaluable:
            failing.add(d["key"])
    assert failing == {d["key"] for d in base_invariants.definitions() if "skip" in d} == {"ele-1", "dom-3", "bdl-10"}


def test_skipped_invariants_are_not_evaluated() -> None:
    # dom-3 would fail to evaluate here (a contained resource): skipped, so no warning either
    r = {"resourceType": "Patient", "text": NARRATIVE, "contained": [{"resourceType": "Organization", "id": "o"}]}
    assert [i for i in validate(r) if "dom-3" in i.diagnostics or "ele-1" in i.diagnostics] == []


def test_the_required_types_and_general_invariants_are_present() -> None:
    keys = {d["key"] for d in base_invariants.definitions()}
    assert {"ele-1", "ext-1", "dom-2", "dom-3", "dom-4", "dom-5", "dom-6", "pat-1", "obs-6", "obs-7", "con-3", "con-4", "con-5", "app-2", "app-3"} <= keys
    for d in base_invariants.definitions():
        assert d["severity"] in ("error", "warning") and d["human"] and d["expression"]


NARRATIVE = {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">x</div>'}
CASES = [
    ("pat-1", {"resourceType": "Patient", "contact": [{"gender": "male"}]}, "Patient.contact[0]"),
    ("obs-6", {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "valueString": "a", "dataAbsentReason": {"text": "n"}}, "Observation"),
    ("obs-7", {"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "urn:c", "code": "1"}]}, "valueString": "a", "component": [{"code": {"coding": [{"system": "urn:c", "code": "1"}]}, "valueString": "b"}]}, "Observation"),
    ("obs-3", {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "referenceRange": [{"text": "ok"}, {"appliesTo": [{"text": "adults"}]}]}, "Observation.referenceRange[1]"),
    ("con-4", {"resourceType": "Condition", "subject": {"reference": "Patient/1"}, "abatementString": "gone", "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]}}, "Condition"),
    ("con-5", {"resourceType": "Condition", "subject": {"reference": "Patient/1"}, "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]}, "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "entered-in-error"}]}}, "Condition"),
    ("app-2", {"resourceType": "Appointment", "status": "booked", "start": "2026-01-01T08:00:00Z", "participant": [{"status": "accepted", "actor": {"reference": "Patient/1"}}]}, "Appointment"),
    ("app-1", {"resourceType": "Appointment", "status": "proposed", "participant": [{"status": "accepted"}]}, "Appointment.participant[0]"),
    ("dom-2", {"resourceType": "Patient", "contained": [{"resourceType": "Organization", "id": "o", "contained": [{"resourceType": "Organization", "id": "p"}]}], "managingOrganization": {"reference": "#o"}}, "Patient"),
    ("dom-4", {"resourceType": "Patient", "contained": [{"resourceType": "Organization", "id": "o", "meta": {"versionId": "1"}}], "managingOrganization": {"reference": "#o"}}, "Patient"),
    ("dom-5", {"resourceType": "Patient", "contained": [{"resourceType": "Organization", "id": "o", "meta": {"security": [{"code": "R"}]}}], "managingOrganization": {"reference": "#o"}}, "Patient"),
    ("bdl-1", {"resourceType": "Bundle", "type": "collection", "total": 1}, "Bundle"),
    ("bdl-2", {"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient"}, "search": {"mode": "match"}}]}, "Bundle"),
    ("bdl-3", {"resourceType": "Bundle", "type": "transaction", "entry": [{"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient"}}]}, "Bundle"),
    ("bdl-4", {"resourceType": "Bundle", "type": "batch-response", "entry": [{"resource": {"resourceType": "Patient"}}]}, "Bundle"),
    ("bdl-7", {"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient"}},
                                                                         {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient"}}]}, "Bundle"),
    ("bdl-9", {"resourceType": "Bundle", "type": "document", "timestamp": "2026-01-01T00:00:00Z", "entry": [{"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Composition"}}]}, "Bundle"),
    ("bdl-11", {"resourceType": "Bundle", "type": "document", "identifier": {"system": "urn:x", "value": "1"}, "timestamp": "2026-01-01T00:00:00Z",
                "entry": [{"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient"}}]}, "Bundle"),
    ("bdl-12", {"resourceType": "Bundle", "type": "message", "entry": [{"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient"}}]}, "Bundle"),
    ("bdl-5", {"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "urn:uuid:1"}]}, "Bundle.entry[0]"),
    ("bdl-8", {"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "http://x/Patient/1/_history/2", "resource": {"resourceType": "Patient"}}]}, "Bundle.entry[0]"),
]


@pytest.mark.parametrize(("key", "resource", "path"), CASES, ids=[c[0] for c in CASES])
def test_invariant_fails_where_the_spec_says(key: str, resource: dict, path: str) -> None:
    resource = dict(resource, text=NARRATIVE) if resource["resourceType"] != "Bundle" else resource  # a Bundle has no narrative
    issues = [i for i in validate(resource) if f"invariant {key};" in i.diagnostics]
    assert [i.expression for i in issues] == [(path,)], validate(resource)
    assert issues[0].severity == "error" and "http://hl7.org/fhir/StructureDefinition/" in issues[0].diagnostics


def test_the_samples_pass_every_invariant() -> None:
    for context, (node, _) in SAMPLES.items():
        if "resourceType" in node:
            issues = validate(dict(node, text=NARRATIVE))
            assert [i for i in issues if "(rule: invariant" in i.diagnostics] == [], (context, issues)


def test_dom_6_is_a_warning_and_ext_1_is_reported_once() -> None:
    r = {"resourceType": "Patient", "extension": [{"url": "urn:x", "valueString": "a", "extension": [{"url": "urn:y", "valueString": "b"}]}]}
    issues = validate(r)
    assert [i.severity for i in issues if "dom-6" in i.diagnostics] == ["warning"]
    assert len([i for i in issues if "ext-1" in i.diagnostics]) == 1
    r = {"resourceType": "Patient", "text": NARRATIVE, "modifierExtension": [{"url": "urn:x", "extension": [{"url": "urn:y", "valueString": "b"}]}]}
    assert [i for i in validate(r) if "ext-1" in i.diagnostics] == []
