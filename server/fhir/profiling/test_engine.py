"""The profile rules, one by one, on small fixture profiles (testdata/) and on the project's own."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

import profiles
from server.fhir.profiling import ProfileRegistry, binding, validate
from server.fhir.profiling.elements import build_tree, split_id

DATA = Path(__file__).with_name("testdata")
URL = "urn:test:StructureDefinition/test-patient"
MR = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}
VALUE_SETS = {
    "urn:test:ValueSet/marital": {("http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "M"), ("http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "S")},
    "urn:test:ValueSet/languages": {(None, "vi"), (None, "en")},
    "urn:test:ValueSet/colours": {("urn:test:colours", "red"), ("urn:test:colours", "blue")},
}


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> ProfileRegistry:
    def contains(vs: str, system: str | None, code: str) -> bool | None:
        if vs not in VALUE_SETS:
            return None
        return (system, code) in VALUE_SETS[vs] or (system is None and any(c == code for _, c in VALUE_SETS[vs]))

    monkeypatch.setattr(binding, "membership", contains)
    return ProfileRegistry(json.loads(p.read_text("utf-8")) for p in sorted(DATA.glob("*.json")))


def good() -> dict:
    return {
        "resourceType": "Patient",
        "meta": {"profile": [URL]},
        "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">An</div>'},
        "extension": [{"url": "urn:test:StructureDefinition/colour", "valueCoding": {"system": "urn:test:colours", "code": "red"}}],
        "identifier": [{"system": "urn:test:national", "value": "123456"}, {"type": MR, "system": "urn:test:hospital", "value": "A-1"}],
        "active": True,
        "name": [{"family": "Nguyễn", "use": "official"}],
        "telecom": [{"system": "phone", "value": "0901"}],
        "birthDate": "1990-01-01",
        "maritalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "M"}]},
        "language": "vi",
    }


def found(issues, severity: str = "error") -> list[str]:
    return [i.diagnostics for i in issues if i.severity == severity]


def only_warning_is_the_unevaluable_invariant(issues) -> bool:
    return all("tp-3" in d for d in found(issues, "warning"))


def test_split_id_handles_slices_and_type_slices() -> None:
    assert split_id("Patient.identifier:cccd.value") == [("Patient", None), ("identifier", "cccd"), ("value", None)]
    assert split_id("Observation.value[x]:valueQuantity.unit") == [("Observation", None), ("valueQuantity", None), ("unit", None)]


def test_conformant_instance_has_no_errors(registry) -> None:
    issues = validate(good(), registry=registry)
    assert found(issues) == []
    assert only_warning_is_the_unevaluable_invariant(issues)


def test_unevaluable_invariant_is_a_warning_naming_it(registry) -> None:
    [d] = found(validate(good(), registry=registry), "warning")
    assert "invariant tp-3" in d and "could not be evaluated" in d and URL in d


def test_cardinality_min_max_and_max_zero(registry) -> None:
    r = good()
    r["name"] = [{"family": "A"}, {"family": "B"}, {"family": "C"}]
    r["photo"] = [{"contentType": "image/png"}]
    errors = found(validate(r, registry=registry))
    assert any(d.startswith("Patient.name: occurs 3 time(s); the profile allows at most 2 (rule: cardinality; profile: " + URL) for d in errors)
    assert any(d.startswith("Patient.photo: is not allowed by the profile") for d in errors)
    r = good()
    del r["name"]
    errors = found(validate(r, registry=registry))
    assert any(d.startswith("Patient.name: occurs 0 time(s); the profile requires at least 1") for d in errors)
    assert any("invariant tp-1" in d for d in errors)  # the root invariant fails too


def test_cardinality_inside_a_slice(registry) -> None:
    r = good()
    del r["identifier"][0]["value"]
    errors = found(validate(r, registry=registry))
    assert any(d.startswith("Patient.identifier[0].value: occurs 0 time(s)") for d in errors), errors


def test_fixed_value(registry) -> None:
    r = good()
    r["active"] = False
    [d] = [d for d in found(validate(r, registry=registry)) if "(rule: fixed" in d]
    assert d.startswith("Patient.active: the value must be exactly true")


def test_pattern_is_containment_and_drives_the_slice(registry) -> None:
    r = good()
    # extra coding and text: the pattern is still contained
    r["identifier"][1]["type"] = {"coding": [{"system": "urn:other", "code": "x"}, *MR["coding"]], "text": "hồ sơ"}
    assert found(validate(r, registry=registry)) == []
    # a type the pattern does not match: no slice takes it, and the slicing is closed
    r["identifier"][1]["type"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "XX"}]}
    errors = found(validate(r, registry=registry))
    assert any(d.startswith("Patient.identifier[1]: matches none of the slices") and "(rule: slice;" in d for d in errors), errors


def test_slice_counts_against_slice_cardinality(registry) -> None:
    r = good()
    r["identifier"].append({"system": "urn:test:national", "value": "654321"})
    errors = found(validate(r, registry=registry))
    assert any(d.startswith("Patient.identifier:national: occurs 2 time(s); the profile allows at most 1") for d in errors), errors
    r = good()
    r["identifier"] = r["identifier"][1:]
    errors = found(validate(r, registry=registry))
    assert any(d.startswith("Patient.identifier:national: occurs 0 time(s); the profile requires at least 1") for d in errors), errors


def test_invariant_inside_a_slice_names_the_instance_path(registry) -> None:
    r = good()
    r["identifier"][0]["value"] = "12ab"
    [d] = [d for d in found(validate(r, registry=registry)) if "tp-4" in d]
    assert d.startswith("Patient.identifier[0].value: Six digits") and "(rule: invariant tp-4; profile: " + URL in d


def test_warning_invariant_is_a_warning(registry) -> None:
    r = good()
    del r["birthDate"]
    warnings = found(validate(r, registry=registry), "warning")
    assert any("invariant tp-2" in d for d in warnings)
    assert found(validate(r, registry=registry)) == []


def test_required_and_extensible_bindings(registry) -> None:
    r = good()
    r["maritalStatus"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "X"}]}
    r["language"] = "fr"
    issues = validate(r, registry=registry)
    assert any(d.startswith("Patient.maritalStatus: the code http://terminology.hl7.org/CodeSystem/v3-MaritalStatus|X is not in the value set urn:test:ValueSet/marital (required binding)") for d in found(issues))
    assert any(d.startswith("Patient.language: the code fr is not in the value set urn:test:ValueSet/languages (extensible binding)") for d in found(issues, "warning"))
    r["maritalStatus"] = {"text": "married"}
    assert any(d.startswith("Patient.maritalStatus: no code is given") for d in found(validate(r, registry=registry)))


def test_extension_slice_by_url_and_its_own_definition(registry) -> None:
    r = good()
    r["extension"] = [{"url": "urn:test:StructureDefinition/colour", "valueString": "red"}]
    errors = found(validate(r, registry=registry))
    assert any(d.startswith("Patient.extension[0].valueString: type String is not allowed here; the profile allows Coding (rule: type; profile: urn:test:StructureDefinition/colour)") for d in errors), errors
    r["extension"] = [{"url": "urn:test:StructureDefinition/colour", "valueCoding": {"system": "urn:test:colours", "code": "green"}}]
    errors = found(validate(r, registry=registry))
    assert any(d.startswith("Patient.extension[0].valueCoding: the code urn:test:colours|green is not in") for d in errors), errors
    r["extension"] = [{"url": "urn:test:other", "valueString": "x"}]  # open slicing: allowed, but the slice is missing
    errors = found(validate(r, registry=registry, unknown_extension="warning"))  # its being unknown: test_extensions.py
    assert [d for d in errors if "extension" in d] == [f"Patient.extension:colour: occurs 0 time(s); the profile requires at least 1 (rule: cardinality; profile: {URL})"]


def test_choice_type_restriction(registry) -> None:
    r = good()
    r["deceasedDateTime"] = "2020-01-01"
    assert any(d.startswith("Patient.deceasedDateTime: type DateTime is not allowed here") for d in found(validate(r, registry=registry)))


def test_must_support_absent_is_information(registry) -> None:
    r = good()
    del r["telecom"]
    del r["name"][0]["use"]
    info = found(validate(r, registry=registry), "information")
    assert f"Patient.telecom: is must-support in the profile and absent (rule: mustSupport; profile: {URL})" in info
    assert any(d.startswith("Patient.name[0].use: is must-support") for d in info)
    assert found(validate(r, registry=registry)) == []


def test_unknown_profile_is_a_warning_or_an_error_on_demand(registry) -> None:
    r = good()
    r["meta"]["profile"].append("urn:test:nope")
    assert any("urn:test:nope is not known" in d for d in found(validate(r, registry=registry), "warning"))
    assert any("urn:test:nope is not known" in d for d in found(validate(r, registry=registry, unknown_profile="error")))


def test_profile_of_another_type_is_an_error(registry) -> None:
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "x"}}
    assert any("the profile is for Patient, not Observation" in d for d in found(validate(obs, [URL], registry=registry)))


def test_profiles_passed_in_are_checked_too(registry) -> None:
    r = good()
    del r["meta"]
    assert found(validate(r, registry=registry)) == []  # claims nothing: base only
    r["active"] = False
    assert any("(rule: fixed" in d for d in found(validate(r, [URL], registry=registry)))


def test_tree_is_built_once_per_profile(registry) -> None:
    sd = registry.get(URL)
    assert registry.tree(sd) is registry.tree(sd)
    assert set(build_tree(sd).children["identifier"].slices) == {"national", "record"}


# --------------------------------------------------------------- the project's own profiles

PATIENT = profiles.PROFILE["lienthong-patient"]


def vn_patient() -> dict:
    return {
        "resourceType": "Patient",
        "meta": {"profile": [PATIENT]},
        "identifier": [
            {"system": profiles.SID["cccd"], "value": "001085012345"},
            {"system": profiles.SID["the-bhyt"], "value": "DN4010123456789"},
        ],
        "name": [{"text": "Nguyễn Văn An", "family": "Nguyễn", "given": ["Văn", "An"]}],
        "gender": "male",
        "birthDate": "1985-07-14",
    }


def test_vn_core_patient_conformant() -> None:
    assert found(validate(vn_patient())) == []


def test_vn_core_patient_every_problem_at_once() -> None:
    r = vn_patient()
    r["identifier"][0]["value"] = "12345"
    r["identifier"][1]["value"] = "XX"
    del r["gender"]
    errors = found(validate(r))
    assert any(d.startswith("Patient.identifier[0]: ") and "invariant vn-pat-1" in d and PATIENT in d for d in errors), errors
    assert any(d.startswith("Patient.identifier[1]: ") and "invariant vn-pat-2" in d for d in errors), errors
    assert any(d.startswith("Patient.gender: occurs 0 time(s)") for d in errors), errors


def test_validate_does_not_change_its_input() -> None:
    r = vn_patient()
    before = copy.deepcopy(r)
    validate(r)
    assert r == before


def test_mapping_output_passes_the_core_profiles() -> None:
    from mappings.transfer54.fhir import to_fhir
    from mappings.transfer54.generate import records
    from server.fhir.profiling.mandatory import MANDATORY_TYPES, problems

    checked = 0
    for record in records(6, 15):
        for entry in to_fhir(record)["entry"]:
            r = entry["resource"]
            if r["resourceType"] in MANDATORY_TYPES:
                assert problems(r) == [], (r["resourceType"], problems(r))
                checked += 1
    assert checked >= 45


def test_a_slice_discriminated_below_a_patterned_element() -> None:
    """VN Core slices Encounter.diagnosis on ``use.coding.code`` and patterns ``use`` itself:
    the value to match is read inside that pattern."""
    url = "urn:test:enc"
    sd = {"resourceType": "StructureDefinition", "url": url, "type": "Encounter", "kind": "resource", "derivation": "constraint",
          "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Encounter", "differential": {"element": [
              {"id": "Encounter.diagnosis", "path": "Encounter.diagnosis",
               "slicing": {"discriminator": [{"type": "value", "path": "use.coding.code"}], "rules": "open"}},
              {"id": "Encounter.diagnosis:main", "path": "Encounter.diagnosis", "sliceName": "main", "min": 1, "max": "1"},
              {"id": "Encounter.diagnosis:main.use", "path": "Encounter.diagnosis.use",
               "patternCodeableConcept": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/diagnosis-role", "code": "CC"}]}}]}}
    reg = ProfileRegistry([sd])

    def errors(use: str) -> list[str]:
        enc = {"resourceType": "Encounter", "status": "finished", "class": {"code": "AMB"},
               "diagnosis": [{"condition": {"reference": "Condition/1"},
                              "use": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/diagnosis-role", "code": use}]}}]}
        return [i.diagnostics for i in validate(enc, [url], registry=reg) if i.severity == "error"]

    assert errors("CC") == []
    assert any("diagnosis:main: occurs 0 time(s)" in e for e in errors("CM"))


def test_our_patient_profile_brings_vn_core_patient_with_it() -> None:
    """lienthong-patient derives from VN Core's Patient: a resource claiming ours is held to VN
    Core's rules too (its name.text), and one that meets ours meets VN Core's."""
    r = vn_patient()
    del r["name"][0]["text"]
    errors = found(validate(r))
    assert any(d.startswith("Patient.name[0].text: occurs 0 time(s)") and "vn-core-patient" in d for d in errors), errors
    vn_core = "http://fhir.ehealth.gov.vn/core/StructureDefinition/vn-core-patient"
    assert found(validate({**vn_patient(), "meta": {"profile": [vn_core]}})) == []
