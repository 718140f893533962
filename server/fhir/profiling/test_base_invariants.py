"""The base R4 invariants: the data file, the skip list, where each rule applies, and rules failing and passing."""

from __future__ import annotations

import random
from typing import Any

import pytest

from server.fhir.profiling import base_invariants, constraints
from server.fhir.profiling import validate as validate_all
from server.fhir.profiling.fhirpath import NotEvaluable, holds
from server.fhir.structure.samples import Sampler
from server.fhir.structure.table import structure


def validate(resource: Any) -> list:  # type: ignore[type-arg]
    """These cases use made-up extension urls (``urn:x``); whether an unknown extension is an
    error is test_extensions' business, not the invariants'."""
    return validate_all(resource, unknown_extension="warning")

NARRATIVE = {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">x</div>'}
ENGINE = "fhirpathpy"
#: content some expressions need to show what the engine cannot do (random samples may lack it)
SPECIAL = {
    "DomainResource": {"resourceType": "Patient", "contained": [{"resourceType": "Organization", "id": "o1", "name": "BV"}],
                       "managingOrganization": {"reference": "#o1"}},
}


def expression(d: dict[str, Any]) -> str:
    return d["corrected"]["expression"] if "corrected" in d else d["expression"]


def samples(d: dict[str, Any], seeds: int = 8) -> list[tuple[Any, str, dict[str, Any]]]:
    """(node, type, %resource) on which ``d`` is evaluated: generated nodes of its type, and SPECIAL."""
    s = structure()
    owner, _ = base_invariants.owner_of(d["context"], s.types)
    out = []
    for seed in range(seeds):
        sampler = Sampler(s, random.Random(seed), max_depth=3)
        rtype = owner.split(".")[0]
        resource = sampler.resource(rtype if rtype in s.resource_types else "Basic")
        node = resource if owner in s.resource_types else sampler.fill(owner, s.meta(owner), 0)
        views = {**base_invariants.engine_views(resource), **base_invariants.engine_views(node)}
        rule = base_invariants.Rule(d["key"], d["severity"], d["human"], expression(d), d["context"], *base_invariants.owner_of(d["context"], s.types))
        for target, base, _ in base_invariants._targets(rule, node, owner, owner, s.meta(owner)):
            out.append((views.get(id(target), target), base, views.get(id(resource), resource)))
    if d["context"] in SPECIAL:
        out.append((SPECIAL[d["context"]], SPECIAL[d["context"]]["resourceType"], SPECIAL[d["context"]]))
    return out


def test_every_context_is_a_type_of_the_structure_table_or_an_element_of_one() -> None:
    s = structure()
    for d in base_invariants.definitions():
        owner, element = base_invariants.owner_of(d["context"], s.types)
        if element is not None:
            meta = s.meta(owner)
            assert element in meta.fields or element[:-3] in meta.choices, d


def test_the_skip_list_is_exactly_what_the_engine_cannot_evaluate() -> None:
    failing, unreached = set(), set()
    for d in base_invariants.definitions():
        found = samples(d)
        if not found:
            unreached.add(d["key"])
        for node, base, resource in found:
            try:
                holds(expression(d), node, base, resource)
            except NotEvaluable:
                failing.add(d["key"])
    assert unreached == set()
    assert failing == {d["key"] for d in base_invariants.definitions() if d.get("skip", "").startswith(ENGINE)}
    assert failing >= {"dom-3", "txt-1", "txt-2", "ctm-1"}
    # skipped for another reason, which it states
    assert [d["key"] for d in base_invariants.definitions() if "skip" in d and d["key"] not in failing] == ["ele-1"]


def test_skipped_invariants_are_not_evaluated() -> None:
    # dom-3 would fail to evaluate here (a contained resource): skipped, so no warning either
    r = {"resourceType": "Patient", "text": NARRATIVE, "contained": [{"resourceType": "Organization", "id": "o"}], "name": [{"id": "n"}]}
    assert [i for i in validate(r) if "dom-3" in i.diagnostics or "ele-1" in i.diagnostics] == []


def test_every_resource_and_data_type_is_read_with_official_texts() -> None:
    defs = base_invariants.definitions()
    keys = {d["key"] for d in defs}
    assert {"ele-1", "ext-1", "dom-2", "dom-6", "pat-1", "obs-6", "bdl-7", "per-1", "qty-3", "ref-1", "que-12", "ras-2",
            "eld-13", "eld-18", "sdf-20", "sdf-21", "tim-9", "org-3"} <= keys
    assert len(defs) > 230
    for d in defs:
        assert d["severity"] in ("error", "warning") and d["human"] and d["expression"]
    corrected = {d["key"]: d for d in defs if "corrected" in d}
    assert set(corrected) == {"que-7", "que-12", "tim-9"}
    assert corrected["que-12"]["expression"] == "enableWhen.count() > 2 implies enableBehavior.exists()"  # as published
    assert corrected["que-12"]["corrected"]["why"]


def patient(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "text": NARRATIVE, **elements}


BAD_PERIOD = {"start": "2026-01-02", "end": "2026-01-01"}
ITEM = {"linkId": "a", "type": "boolean"}
CONDITIONS = [{"question": "a", "operator": "exists", "answerBoolean": True}, {"question": "b", "operator": "exists", "answerBoolean": True}]
COMPOSITION = {"resourceType": "Composition", "text": NARRATIVE, "status": "final", "type": {"text": "summary"}, "date": "2026-01-01",
               "author": [{"display": "Dr A"}], "title": "Tóm tắt"}
SD = {"resourceType": "StructureDefinition", "url": "urn:sd", "name": "X", "status": "draft", "kind": "resource", "abstract": False,
      "type": "Patient", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "derivation": "constraint"}
CASES = [
    ("pat-1", patient(contact=[{"gender": "male"}]), "Patient.contact[0]"),
    ("obs-6", {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "valueString": "a", "dataAbsentReason": {"text": "n"}}, "Observation"),
    ("obs-7", {"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "urn:c", "code": "1"}]}, "valueString": "a", "component": [{"code": {"coding": [{"system": "urn:c", "code": "1"}]}, "valueString": "b"}]}, "Observation"),
    ("obs-3", {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "referenceRange": [{"text": "ok"}, {"appliesTo": [{"text": "adults"}]}]}, "Observation.referenceRange[1]"),
    ("con-4", {"resourceType": "Condition", "subject": {"reference": "Patient/1"}, "abatementString": "gone", "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]}}, "Condition"),
    ("con-5", {"resourceType": "Condition", "subject": {"reference": "Patient/1"}, "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]}, "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "entered-in-error"}]}}, "Condition"),
    ("app-2", {"resourceType": "Appointment", "status": "proposed", "start": "2026-01-01T08:00:00Z", "participant": [{"status": "accepted", "actor": {"reference": "Patient/1"}}]}, "Appointment"),
    ("app-1", {"resourceType": "Appointment", "status": "proposed", "participant": [{"status": "accepted"}]}, "Appointment.participant[0]"),
    ("dom-2", patient(contained=[{"resourceType": "Organization", "id": "o", "name": "BV", "contained": [{"resourceType": "Organization", "id": "p", "name": "SYT"}]}], managingOrganization={"reference": "#o"}), "Patient"),
    ("dom-4", patient(contained=[{"resourceType": "Organization", "id": "o", "name": "BV", "meta": {"versionId": "1"}}], managingOrganization={"reference": "#o"}), "Patient"),
    ("dom-5", patient(contained=[{"resourceType": "Organization", "id": "o", "name": "BV", "meta": {"security": [{"code": "R"}]}}], managingOrganization={"reference": "#o"}), "Patient"),
    ("bdl-1", {"resourceType": "Bundle", "type": "collection", "total": 1}, "Bundle"),
    ("bdl-2", {"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "urn:uuid:1", "resource": patient(), "search": {"mode": "match"}}]}, "Bundle"),
    ("bdl-3", {"resourceType": "Bundle", "type": "transaction", "entry": [{"fullUrl": "urn:uuid:1", "resource": patient()}]}, "Bundle"),
    ("bdl-4", {"resourceType": "Bundle", "type": "batch-response", "entry": [{"resource": patient()}]}, "Bundle"),
    ("bdl-7", {"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "urn:uuid:1", "resource": patient()}, {"fullUrl": "urn:uuid:1", "resource": patient()}]}, "Bundle"),
    ("bdl-9", {"resourceType": "Bundle", "type": "document", "timestamp": "2026-01-01T00:00:00Z", "entry": [{"fullUrl": "urn:uuid:1", "resource": COMPOSITION}]}, "Bundle"),
    ("bdl-10", {"resourceType": "Bundle", "type": "document", "identifier": {"system": "urn:x", "value": "1"}, "entry": [{"fullUrl": "urn:uuid:1", "resource": COMPOSITION}]}, "Bundle"),
    ("bdl-11", {"resourceType": "Bundle", "type": "document", "identifier": {"system": "urn:x", "value": "1"}, "timestamp": "2026-01-01T00:00:00Z", "entry": [{"fullUrl": "urn:uuid:1", "resource": patient()}]}, "Bundle"),
    ("bdl-12", {"resourceType": "Bundle", "type": "message", "entry": [{"fullUrl": "urn:uuid:1", "resource": patient()}]}, "Bundle"),
    ("bdl-5", {"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "urn:uuid:1"}]}, "Bundle.entry[0]"),
    ("bdl-8", {"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "http://x/Patient/1/_history/2", "resource": patient()}]}, "Bundle.entry[0]"),
    # a data type's invariant wherever the type occurs
    ("per-1", {"resourceType": "Encounter", "text": NARRATIVE, "status": "finished", "class": {"code": "AMB"}, "period": BAD_PERIOD}, "Encounter.period"),
    ("per-1", patient(identifier=[{"value": "1"}, {"value": "2", "period": BAD_PERIOD}]), "Patient.identifier[1].period"),
    ("per-1", patient(extension=[{"url": "urn:x", "valuePeriod": BAD_PERIOD}]), "Patient.extension[0].valuePeriod"),
    ("per-1", patient(_birthDate={"extension": [{"url": "urn:x", "valuePeriod": BAD_PERIOD}]}, birthDate="2000"), "Patient.birthDate.extension[0].valuePeriod"),
    ("per-1", patient(contained=[{"resourceType": "Practitioner", "id": "p", "name": [{"family": "A", "period": BAD_PERIOD}]}], generalPractitioner=[{"reference": "#p"}]),
     "Patient.contained[0].name[0].period"),
    ("per-1", {"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "urn:uuid:1", "resource": patient(name=[{"family": "A", "period": BAD_PERIOD}])}]},
     "Bundle.entry[0].resource.name[0].period"),
    # a type's invariants hold for the types derived from it: Quantity's qty-3 on an Age
    ("qty-3", {"resourceType": "Condition", "text": NARRATIVE, "subject": {"reference": "Patient/1"}, "onsetAge": {"value": 3, "code": "a"}}, "Condition.onsetAge"),
    # a backbone's invariants on the nested items that reuse it
    ("que-12", {"resourceType": "Questionnaire", "text": NARRATIVE, "status": "draft",
                "item": [{"linkId": "g", "type": "group", "item": [ITEM, {"linkId": "q", "type": "string", "enableWhen": CONDITIONS}]}]}, "Questionnaire.item[0].item[1]"),
    # an element below a type: each occurrence, a choice by its type
    ("org-3", {"resourceType": "Organization", "text": NARRATIVE, "name": "BV", "telecom": [{"system": "phone", "value": "1"}, {"system": "phone", "value": "2", "use": "home"}]},
     "Organization.telecom[1]"),
    ("ras-1", {"resourceType": "RiskAssessment", "text": NARRATIVE, "status": "final", "subject": {"reference": "Patient/1"},
               "prediction": [{"probabilityRange": {"low": {"value": 1, "system": "http://unitsofmeasure.org", "code": "mg"}}}]}, "RiskAssessment.prediction[0].probabilityRange"),
    ("ras-2", {"resourceType": "RiskAssessment", "text": NARRATIVE, "status": "final", "subject": {"reference": "Patient/1"}, "prediction": [{"probabilityDecimal": 101}]},
     "RiskAssessment.prediction[0]"),
    ("eld-13", dict(SD, text=NARRATIVE, differential={"element": [{"id": "Patient.link.other", "path": "Patient.link.other", "type": [{"code": "Reference"}, {"code": "Reference"}]}]}),
     "StructureDefinition.differential.element[0]"),
    ("eld-18", dict(SD, text=NARRATIVE, differential={"element": [{"id": "Patient.active", "path": "Patient.active", "isModifier": True}]}), "StructureDefinition.differential.element[0]"),
    ("sdf-20", dict(SD, text=NARRATIVE, differential={"element": [{"id": "Patient", "path": "Patient", "slicing": {"discriminator": [{"type": "value", "path": "url"}], "rules": "open"}}]}), "StructureDefinition.differential"),
    ("sdf-21", dict(SD, text=NARRATIVE, differential={"element": [{"id": "Patient.active", "path": "Patient.active", "defaultValueBoolean": True}]}), "StructureDefinition"),
    ("ref-1", {"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "urn:uuid:1", "resource": patient(managingOrganization={"reference": "#o"})}]},
     "Bundle.entry[0].resource.managingOrganization"),
]


@pytest.mark.parametrize(("key", "resource", "path"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_invariant_fails_where_the_spec_says(key: str, resource: dict, path: str) -> None:
    resource = dict(resource, text=NARRATIVE) if resource["resourceType"] != "Bundle" else resource  # a Bundle has no narrative
    issues = [i for i in validate(resource) if f"invariant {key};" in i.diagnostics]
    assert [i.expression for i in issues] == [(path,)], validate(resource)
    assert issues[0].severity == "error" and "http://hl7.org/fhir/StructureDefinition/" in issues[0].diagnostics
    assert [i for i in validate(resource) if i.severity == "error" and i not in issues] == [], "only the rule shown fails"


GOOD = [
    patient(name=[{"family": "A", "period": {"start": "2026-01-01T10:00:00+07:00", "end": "2026-01-01T04:00:00Z"}}]),  # 03:00Z before 04:00Z
    patient(name=[{"family": "A", "period": {"start": "2026-01-01", "_start": {"extension": [{"url": "urn:x", "valueString": "a"}]}, "end": "2026-02-01"}}]),
    patient(contained=[{"resourceType": "Organization", "id": "o", "name": "BV"}, {"resourceType": "Practitioner", "id": "p", "name": [{"family": "A"}]}],
            managingOrganization={"reference": "#o"}, generalPractitioner=[{"reference": "#p"}], link=[{"other": {"display": "no reference"}, "type": "seealso"}]),
    {"resourceType": "Questionnaire", "text": NARRATIVE, "status": "draft", "item": [ITEM, {"linkId": "b", "type": "boolean"},
                                                                                    {"linkId": "q", "type": "string", "enableWhen": CONDITIONS, "enableBehavior": "all"}]},
    {"resourceType": "MedicationRequest", "text": NARRATIVE, "status": "active", "intent": "order", "medicationCodeableConcept": {"text": "x"},
     "subject": {"reference": "Patient/1"}, "dosageInstruction": [{"timing": {"repeat": {"when": ["ACM", "PCV"], "offset": 30}},
                                                                  "doseAndRate": [{"doseRange": {"low": {"value": 1, "unit": "mg"}, "high": {"value": 2, "unit": "mg"}}}]}]},
]


@pytest.mark.parametrize("resource", GOOD, ids=range(len(GOOD)))
def test_valid_content_passes_and_is_evaluated(resource: dict) -> None:
    # timezones, a primitive's extension, contained references, que-12 with enableBehavior, tim-9 with two when
    assert [i for i in validate(resource) if i.severity != "information" and i.code != "extension"] == []


def test_contained_resources_see_their_container_as_root_resource() -> None:
    # ref-1 in a contained resource: the reference is to a sibling, contained in %rootResource
    r = patient(contained=[{"resourceType": "Organization", "id": "o", "name": "BV", "partOf": {"reference": "#p"}},
                           {"resourceType": "Organization", "id": "p", "name": "SYT"}], managingOrganization={"reference": "#o"})
    assert [i for i in validate(r) if "ref-1" in i.diagnostics] == []
    r["contained"][0]["partOf"] = {"reference": "#q"}
    assert [i.expression for i in validate(r) if "ref-1" in i.diagnostics] == [("Patient.contained[0].partOf",)]


def test_the_hand_samples_pass_every_invariant() -> None:
    for node in SPECIAL.values():
        assert [i for i in validate(dict(node, text=NARRATIVE)) if "(rule: invariant" in i.diagnostics] == []


def test_dom_6_is_a_warning_and_ext_1_is_reported_once() -> None:
    r = {"resourceType": "Patient", "extension": [{"url": "urn:x", "valueString": "a", "extension": [{"url": "urn:y", "valueString": "b"}]}]}
    issues = validate(r)
    assert [i.severity for i in issues if "dom-6" in i.diagnostics] == ["warning"]
    assert len([i for i in issues if "ext-1" in i.diagnostics]) == 1
    r = {"resourceType": "Patient", "text": NARRATIVE, "modifierExtension": [{"url": "urn:x", "extension": [{"url": "urn:y", "valueString": "b"}]}]}
    assert [i for i in validate(r) if "ext-1" in i.diagnostics] == []


def test_warning_invariants_stay_warnings() -> None:
    r = {"resourceType": "SearchParameter", "text": NARRATIVE, "url": "urn:sp", "name": "lower-case", "status": "draft", "description": "d",
         "code": "x", "base": ["Patient"], "type": "token", "expression": "Patient.gender"}
    assert [(i.severity, i.expression) for i in validate(r) if "spd-0" in i.diagnostics] == [("warning", ("SearchParameter",))]


def test_profiles_copying_a_base_invariant_do_not_report_it_again() -> None:
    per1 = next(d for d in base_invariants.definitions() if d["key"] == "per-1")
    copied = {"key": "per-1", "severity": "error", "human": per1["human"], "expression": per1["expression"], "source": "http://hl7.org/fhir/StructureDefinition/Period"}
    own = dict(copied, key="vn-1", source="http://fhir.ehealth.gov.vn/core/StructureDefinition/x")
    found = constraints.check({"constraint": [copied, own]}, BAD_PERIOD, "Patient.period", "Period", {}, "urn:p")
    assert ["invariant vn-1" in i.diagnostics for i in found] == [True]


def test_each_shortcut_agrees_with_the_engine() -> None:
    """Where a shortcut decides (True), the official expression evaluated by the engine holds too:
    on sampled content of every context, and on hand-made edge cases."""
    edge = {
        "ext-1": [{"url": "u", "valueString": "a"}, {"url": "u", "extension": [{"url": "v", "valueCode": "c"}]},
                  {"url": "u", "_valueString": {"extension": [{"url": "v", "valueCode": "c"}]}}, {"url": "u"},
                  {"url": "u", "valueString": "a", "extension": [{"url": "v", "valueCode": "c"}]}, {"url": "u", "extension": []}],
        "ref-1": [{"reference": "Patient/1"}, {"display": "x"}, {"reference": "#p"}, {"reference": "#"}],
    }
    checked = 0
    for d in base_invariants.definitions():
        shortcut = base_invariants.SHORTCUTS.get(d["key"])
        if shortcut is None:
            continue
        cases = samples(d) + [(node, d["context"].split(".")[0], {"resourceType": "Patient"}) for node in edge.get(d["key"], [])]
        for node, base, resource in cases:
            if shortcut(node):
                assert holds(expression(d), node, base, resource), (d["key"], node)
                checked += 1
    assert checked >= 10
