"""Behaviour of the structural validator: each check, its expression, and robustness."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.fhir.outcome import Issue
from server.fhir.structure.table import structure
from server.fhir.validation import known_resource_types, validate_resource

DATA = Path(__file__).with_name("data")


# --------------------------------------------------------------------------- helpers


def by_path(data: Any, **kwargs: Any) -> dict[str, list[Issue]]:
    out: dict[str, list[Issue]] = {}
    for issue in validate_resource(data, **kwargs):
        out.setdefault(issue.expression[0] if issue.expression else "", []).append(issue)
    return out


def only_issue(data: Any, expression: str, code: str, *words: str, **kwargs: Any) -> Issue:
    """Assert ``data`` has exactly one issue, at ``expression``, and return it."""
    issues = validate_resource(data, **kwargs)
    assert [(i.expression, i.code) for i in issues] == [((expression,), code)], issues
    issue = issues[0]
    assert issue.severity == "error"
    for word in words:
        assert word in issue.diagnostics, (word, issue.diagnostics)
    return issue


def ext(url: str = "http://example.org/fhir/StructureDefinition/x", **value: Any) -> dict[str, Any]:
    return {"url": url, **(value or {"valueString": "v"})}


# --------------------------------------------------------------------------- valid examples


def patient() -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": "p-1",
        "meta": {"versionId": "1", "lastUpdated": "2024-05-01T10:00:00+07:00", "profile": ["http://example.org/p|1.0"]},
        "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">Nguyễn Văn An</div>'},
        "extension": [ext("http://example.org/ethnicity", valueCoding={"system": "http://example.org/cs", "code": "01"})],
        "identifier": [{"use": "official", "system": "http://example.org/cccd", "value": "001080012345"}],
        "active": True,
        "name": [{"use": "official", "family": "Nguyễn", "given": ["Văn", "An"]}],
        "telecom": [{"system": "phone", "value": "+84 912 345 678", "use": "mobile"}],
        "gender": "male",
        "birthDate": "1980-02-03",
        "_birthDate": {"extension": [ext("http://hl7.org/fhir/StructureDefinition/patient-birthTime", valueDateTime="1980-02-03T08:30:00+07:00")]},
        "deceasedBoolean": False,
        "address": [{"use": "home", "type": "physical", "line": ["12 Lê Lợi"], "city": "Huế", "country": "VN"}],
        "maritalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "M"}]},
        "multipleBirthInteger": 1,
        "contact": [{"relationship": [{"text": "vợ"}], "name": {"family": "Trần"}, "gender": "female"}],
        "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "vi"}]}, "preferred": True}],
        "managingOrganization": {"reference": "Organization/o-1"},
    }


def encounter() -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "type": [{"text": "Khám ngoại trú"}],
        "subject": {"reference": "Patient/p-1"},
        "participant": [{"individual": {"reference": "Practitioner/pr-1"}}],
        "period": {"start": "2024-05-01T08:00:00+07:00", "end": "2024-05-01T09:00:00+07:00"},
        "location": [{"location": {"reference": "Location/l-1"}, "status": "completed"}],
        "serviceProvider": {"reference": "Organization/o-1"},
    }


def observation() -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}], "text": "Huyết áp"},
        "subject": {"reference": "Patient/p-1"},
        "effectiveDateTime": "2024-05-01T08:15:00+07:00",
        "valueQuantity": {"value": Decimal("62.50"), "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
        "component": [
            {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
             "valueQuantity": {"value": 120, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}},
            {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
             "valueQuantity": {"value": Decimal("80.0"), "comparator": "<", "unit": "mmHg"}},
        ],
        "referenceRange": [{"low": {"value": 50}, "high": {"value": Decimal("1E+2")}}],
    }


def document_reference() -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "status": "current",
        "docStatus": "final",
        "type": {"coding": [{"system": "http://loinc.org", "code": "18842-5"}]},
        "subject": {"reference": "Patient/p-1"},
        "date": "2024-05-01T09:00:00Z",
        "content": [{
            "attachment": {"contentType": "text/plain", "language": "vi", "data": "eGluIGNow6Bv", "title": "Tóm tắt", "size": 9},
            "format": {"system": "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode", "code": "urn:ihe:iti:xds:2017:mimeTypeSufficient"},
        }],
    }


def coverage() -> dict[str, Any]:
    return {
        "resourceType": "Coverage",
        "status": "active",
        "type": {"text": "BHYT"},
        "subscriberId": "DN4797912345678",
        "beneficiary": {"reference": "Patient/p-1"},
        "period": {"start": "2024-01-01", "end": "2024-12-31"},
        "payor": [{"reference": "Organization/bhxh"}],
        "class": [{"type": {"text": "plan"}, "value": "80"}],
        "order": 1,
    }


def condition() -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
        "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]},
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "I10"}], "text": "Tăng huyết áp"},
        "subject": {"reference": "Patient/p-1"},
        "onsetAge": {"value": 45, "unit": "a", "system": "http://unitsofmeasure.org", "code": "a"},
        "recordedDate": "2024-05-01",
    }


def organization() -> dict[str, Any]:
    return {
        "resourceType": "Organization",
        "identifier": [{"system": "http://example.org/csyt", "value": "46001"}],
        "active": True,
        "type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "prov"}]}],
        "name": "Bệnh viện Trung ương Huế",
        "telecom": [{"system": "url", "value": "https://bvtwhue.com.vn"}],
        "address": [{"line": ["16 Lê Lợi"], "city": "Huế", "country": "VN"}],
    }


def practitioner() -> dict[str, Any]:
    return {
        "resourceType": "Practitioner",
        "identifier": [{"system": "http://example.org/cchn", "value": "000123/TTH-CCHN"}],
        "active": True,
        "name": [{"family": "Lê", "given": ["Thị", "Hoa"], "prefix": ["BS."]}],
        "gender": "female",
        "qualification": [{"code": {"text": "Bác sĩ đa khoa"}, "period": {"start": "2010"}}],
    }


def transaction() -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": "urn:uuid:c757873d-ec9a-4326-a141-556f43239520", "resource": patient(),
             "request": {"method": "POST", "url": "Patient"}},
            {"resource": observation(), "request": {"method": "PUT", "url": "Observation/o-1"}},
            {"request": {"method": "DELETE", "url": "Condition/c-9"}},
        ],
    }


VALID = [patient, encounter, observation, document_reference, coverage, condition, organization, practitioner, transaction]


@pytest.mark.parametrize("make", VALID, ids=lambda f: f.__name__)
def test_valid_resources_have_no_issues(make) -> None:
    assert validate_resource(make()) == []


def test_valid_resource_is_not_modified() -> None:
    data = transaction()
    data["entry"][0]["resource"]["name"] = "not an array"
    before = json.dumps(data, default=str, sort_keys=True)
    validate_resource(data)
    assert json.dumps(data, default=str, sort_keys=True) == before


# --------------------------------------------------------------------------- (a) resource type


@pytest.mark.parametrize("value", [None, [], ["Patient"], "Patient", 5, Decimal("1.5"), True])
def test_non_object_is_one_structure_issue(value) -> None:
    issues = validate_resource(value)
    assert len(issues) == 1 and issues[0].code == "structure"
    assert "JSON object" in issues[0].diagnostics


def test_missing_resource_type() -> None:
    only_issue({"id": "x"}, "resourceType", "required", "resourceType")


@pytest.mark.parametrize("rt", ["patient", "Foo", "Resource", "DomainResource", "HumanName", "", "Patient "])
def test_unknown_resource_type_stops(rt) -> None:
    only_issue({"resourceType": rt, "foo": 1}, "resourceType", "structure", "Unknown resourceType")


def test_resource_type_must_be_string() -> None:
    only_issue({"resourceType": ["Patient"]}, "resourceType", "structure", "string")


def test_path_prefix_is_used() -> None:
    only_issue({"resourceType": "Patient", "gender": 1}, "Bundle.entry[3].resource.gender", "value",
               path="Bundle.entry[3].resource")
    only_issue({"resourceType": "Nope"}, "Bundle.entry[3].resource.resourceType", "structure",
               path="Bundle.entry[3].resource")


def test_known_resource_types() -> None:
    known = known_resource_types()
    assert {"Patient", "Observation", "Bundle", "Parameters", "OperationOutcome", "Binary"} <= known
    assert not {"Resource", "DomainResource", "HumanName", "PatientContact", "Extension"} & known
    assert len(known) >= 140


# --------------------------------------------------------------------------- (b) structure


def test_unknown_element_names_element_and_type() -> None:
    only_issue({"resourceType": "Patient", "foo": 1}, "Patient.foo", "structure", "'foo'", "Patient")
    only_issue({"resourceType": "Patient", "name": [{"family": "A", "nick": "b"}]},
               "Patient.name[0].nick", "structure", "'nick'", "HumanName")
    only_issue({"resourceType": "Patient", "contact": [{"gender": "male", "x": 1}]},
               "Patient.contact[0].x", "structure", "Patient.contact")


def test_unknown_element_hints() -> None:
    assert "birthDate" in only_issue({"resourceType": "Patient", "birthdate": "2000"}, "Patient.birthdate", "structure").diagnostics
    assert "deceasedBoolean" in only_issue({"resourceType": "Patient", "deceased": True}, "Patient.deceased", "structure").diagnostics


def test_non_fhir_keys_are_unknown() -> None:
    only_issue({"resourceType": "Patient", "fhir_comments": "x"}, "Patient.fhir_comments", "structure")
    only_issue({"resourceType": "Patient", "resource_type": "Patient"}, "Patient.resource_type", "structure")
    only_issue({"resourceType": "Patient", "name": [{"resourceType": "HumanName"}]},
               "Patient.name[0].resourceType", "structure", "top level")


def test_array_expected() -> None:
    only_issue({"resourceType": "Patient", "name": {"family": "A"}}, "Patient.name", "structure", "array", "an object")
    only_issue({"resourceType": "Patient", "name": [{"given": "An"}]}, "Patient.name[0].given", "structure", "array")


def test_single_value_expected() -> None:
    only_issue({"resourceType": "Patient", "gender": ["male"]}, "Patient.gender", "structure", "not an array")
    only_issue({"resourceType": "Patient", "maritalStatus": [{"text": "M"}]}, "Patient.maritalStatus", "structure")


def test_complex_given_a_primitive() -> None:
    only_issue({"resourceType": "Patient", "maritalStatus": "married"}, "Patient.maritalStatus", "structure",
               "JSON object", "CodeableConcept")


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, None, Decimal("1")])
def test_boolean_must_be_json_boolean(value) -> None:
    expected_code = "structure" if value is None else "value"
    only_issue({"resourceType": "Patient", "active": value}, "Patient.active", expected_code)


def test_boolean_message_is_actionable() -> None:
    only_issue({"resourceType": "Patient", "active": "yes"}, "Patient.active", "value", "true or false", '"yes"')


@pytest.mark.parametrize("value", ["12", Decimal("12.0"), Decimal("1E+1"), True, 2**31, -(2**31) - 1])
def test_integer_must_be_json_integer_in_range(value) -> None:
    only_issue(
        {"resourceType": "Patient", "multipleBirthInteger": value},
        "Patient.multipleBirthInteger",
        "value",
        "integer",
    )


def test_integer_range_edges_accepted() -> None:
    for value in (2**31 - 1, -(2**31), 0):
        assert validate_resource({"resourceType": "Patient", "multipleBirthInteger": value}) == []


def test_unsigned_and_positive_int_sign() -> None:
    only_issue({"resourceType": "Bundle", "type": "searchset", "total": -1}, "Bundle.total", "value", "unsignedInt")
    assert validate_resource({"resourceType": "Bundle", "type": "searchset", "total": 0}) == []
    only_issue({**coverage(), "order": 0}, "Coverage.order", "value", "positiveInt")


@pytest.mark.parametrize("value", ["62.5", True, None])
def test_decimal_must_be_json_number(value) -> None:
    obs = observation()
    obs["valueQuantity"]["value"] = value
    code = "structure" if value is None else "value"
    only_issue(obs, "Observation.valueQuantity.value", code)


def test_decimal_not_finite() -> None:
    obs = observation()
    obs["valueQuantity"]["value"] = Decimal("NaN")
    only_issue(obs, "Observation.valueQuantity.value", "value", "finite")


def test_string_types_must_be_json_strings() -> None:
    only_issue({"resourceType": "Patient", "name": [{"family": 5}]}, "Patient.name[0].family", "value", "string")
    only_issue({"resourceType": "Patient", "birthDate": 19800203}, "Patient.birthDate", "value", "date")
    only_issue({"resourceType": "Patient", "name": [{"family": {"v": 1}}]}, "Patient.name[0].family", "structure")


def test_empty_object() -> None:
    only_issue({"resourceType": "Patient", "maritalStatus": {}}, "Patient.maritalStatus", "structure", "empty object")
    only_issue(
        {"resourceType": "Patient", "name": [{"family": "A"}, {}]},
        "Patient.name[1]",
        "structure",
        "empty object",
    )


def test_empty_array() -> None:
    only_issue({"resourceType": "Patient", "name": []}, "Patient.name", "structure", "empty array")


@pytest.mark.parametrize("value", ["", " ", "\t\n"])
def test_empty_or_whitespace_string_reported_once(value) -> None:
    only_issue(
        {"resourceType": "Patient", "name": [{"given": ["An", value]}]},
        "Patient.name[0].given[1]",
        "value",
        "empty",
    )


def test_nulls() -> None:
    only_issue({"resourceType": "Patient", "gender": None}, "Patient.gender", "structure", "null")
    only_issue({"resourceType": "Patient", "name": [None]}, "Patient.name[0]", "structure", "null")
    only_issue(
        {"resourceType": "Patient", "name": [{"given": ["An", None]}]},
        "Patient.name[0].given[1]",
        "structure",
        "_given[1]",
    )


def test_null_paired_with_extension_is_allowed() -> None:
    name = {"given": ["An", None], "_given": [None, {"extension": [ext(valueCode="masked")]}]}
    assert validate_resource({"resourceType": "Patient", "name": [name]}) == []


def test_choice_with_two_types_is_one_issue() -> None:
    obs = observation()
    obs["valueString"] = "62.5 kg"
    only_issue(obs, "Observation.value[x]", "structure", "valueQuantity", "valueString")
    obs = observation()
    obs["component"][1]["valueInteger"] = 80
    only_issue(obs, "Observation.component[1].value[x]", "structure")


def test_required_choice_missing() -> None:
    request = {"resourceType": "MedicationRequest", "status": "active", "intent": "order", "subject": {"reference": "Patient/p"}}
    only_issue(request, "MedicationRequest.medication[x]", "required", "medication")


def test_required_elements() -> None:
    only_issue({"resourceType": "Observation", "code": {"text": "x"}}, "Observation.status", "required", "status")
    obs = observation()
    del obs["component"][0]["code"]
    only_issue(obs, "Observation.component[0].code", "required", "code")


def test_required_primitive_satisfied_by_extension() -> None:
    obs = observation()
    del obs["status"]
    obs["_status"] = {"extension": [ext("http://hl7.org/fhir/StructureDefinition/data-absent-reason", valueCode="unknown")]}
    assert validate_resource(obs) == []


# --------------------------------------------------------------------------- "_name" companions


def test_companion_with_extension_and_no_value_is_allowed() -> None:
    data = {"resourceType": "Patient", "_gender": {"extension": [ext(valueCode="x")]}}
    assert validate_resource(data) == []


def test_companion_without_value_or_extension() -> None:
    only_issue({"resourceType": "Patient", "_birthDate": {"id": "b"}}, "Patient._birthDate", "structure", "extension")


def test_companion_may_only_hold_id_and_extension() -> None:
    only_issue({"resourceType": "Patient", "birthDate": "2000", "_birthDate": {"id": "b", "value": "x"}},
               "Patient._birthDate.value", "structure", "'value'")


def test_companion_shape() -> None:
    only_issue(
        {"resourceType": "Patient", "gender": "male", "_gender": [{"id": "g"}]},
        "Patient._gender",
        "structure",
        "object",
    )
    only_issue({"resourceType": "Patient", "name": [{"given": ["A", "B"], "_given": [{"id": "g"}]}]},
               "Patient.name[0]._given", "structure", "same length")
    only_issue({"resourceType": "Patient", "name": [{"given": ["A"], "_given": {"id": "g"}}]},
               "Patient.name[0]._given", "structure", "array")


def test_companion_of_complex_element_is_unknown() -> None:
    only_issue(
        {"resourceType": "Patient", "name": [{"family": "A"}], "_name": [{"id": "n"}]},
        "Patient._name",
        "structure",
    )


def test_companion_content_is_validated() -> None:
    data = {"resourceType": "Patient", "birthDate": "2000", "_birthDate": {"extension": [{"valueString": "x"}]}}
    only_issue(data, "Patient._birthDate.extension[0].url", "required", "url")


# --------------------------------------------------------------------------- nested resources, extensions


def test_contained_validated_by_own_type() -> None:
    data = {"resourceType": "Patient", "contained": [{"resourceType": "Observation", "status": "nope", "code": {"text": "x"}}]}
    only_issue(data, "Patient.contained[0].status", "code-invalid", "observation-status")


def test_contained_without_or_with_unknown_type() -> None:
    found = by_path({"resourceType": "Patient", "contained": [{"id": "x"}, {"resourceType": "Foo"}, "x"]})
    assert set(found) == {"Patient.contained[0]", "Patient.contained[1].resourceType", "Patient.contained[2]"}
    assert all(i.code == "structure" for issues in found.values() for i in issues)


def test_bundle_entry_resource() -> None:
    bundle = transaction()
    bundle["entry"][1]["resource"]["valueString"] = "x"
    bundle["entry"][0]["resource"]["gender"] = "nam"
    found = by_path(bundle)
    assert set(found) == {"Bundle.entry[1].resource.value[x]", "Bundle.entry[0].resource.gender"}


def test_parameters_resource() -> None:
    params = {"resourceType": "Parameters", "parameter": [{"name": "p", "resource": {"resourceType": "Patient", "active": "no"}}]}
    only_issue(params, "Parameters.parameter[0].resource.active", "value")


def test_extension_needs_url_and_one_value() -> None:
    only_issue(
        {"resourceType": "Patient", "extension": [{"valueString": "x"}]},
        "Patient.extension[0].url",
        "required",
        "url",
    )
    only_issue({"resourceType": "Patient", "extension": [ext(valueString="a", valueBoolean=True)]},
               "Patient.extension[0].value[x]", "structure", "valueString", "valueBoolean")
    only_issue({"resourceType": "Patient", "modifierExtension": [ext(valueString="a", extension=[ext()])]},
               "Patient.modifierExtension[0]", "invariant", "ext-1")


# --------------------------------------------------------------------------- (c) formats via pydantic


@pytest.mark.parametrize(
    ("element", "value", "type_name"),
    [
        ("birthDate", "1980-13-01", "date"),
        ("birthDate", "03/02/1980", "date"),
        ("deceasedDateTime", "2020-01-01T10:00:00", "dateTime"),
        ("id", "a b", "id"),
        ("id", "x" * 65, "id"),
        ("language", " vi", "code"),
        ("implicitRules", "http://a b", "uri"),
    ],
)
def test_primitive_formats(element, value, type_name) -> None:
    issue = only_issue({"resourceType": "Patient", element: value}, f"Patient.{element}", "value", type_name)
    assert "expected" in issue.diagnostics


def test_instant_and_nested_format_paths() -> None:
    only_issue(
        {"resourceType": "Patient", "meta": {"lastUpdated": "2020-01-01"}},
        "Patient.meta.lastUpdated",
        "value",
        "instant",
    )
    obs = observation()
    obs["component"][0]["valueQuantity"]["code"] = "mm Hg  x"
    only_issue(obs, "Observation.component[0].valueQuantity.code", "value", "code")


def test_base64_oid_uuid() -> None:
    doc = document_reference()
    doc["content"][0]["attachment"]["data"] = "@@@@"
    only_issue(doc, "DocumentReference.content[0].attachment.data", "value", "base64")
    doc["content"][0]["attachment"]["data"] = "eGluIG\nNow6Bv"  # line breaks are tolerated
    assert validate_resource(doc) == []
    only_issue({"resourceType": "Patient", "extension": [ext(valueOid="1.2.3")]},
               "Patient.extension[0].valueOid", "value", "oid", "urn:oid:")
    only_issue({"resourceType": "Patient", "extension": [ext(valueUuid="urn:uuid:XYZ")]},
               "Patient.extension[0].valueUuid", "value", "uuid")
    # any UUID version is a FHIR uuid (pydantic's version-4 check must not leak through)
    version_1 = {"resourceType": "Patient", "extension": [ext(valueUuid="urn:uuid:c757873d-ec9a-1326-a141-556f43239520")]}
    assert validate_resource(version_1) == []
    assert validate_resource({"resourceType": "Patient", "extension": [ext(valueOid="urn:oid:2.16.840.1")]}) == []


def test_pydantic_crash_inputs_become_issues() -> None:
    # fhir.resources raises AttributeError / KeyError / TypeError on these; they must be issues.
    doc = document_reference()
    doc["content"][0]["attachment"]["url"] = 5
    only_issue(doc, "DocumentReference.content[0].attachment.url", "value", "url")
    only_issue({"resourceType": "Patient", "contained": [{"resourceType": 5}]}, "Patient.contained[0]", "structure")


# --------------------------------------------------------------------------- (d) required bindings


@pytest.mark.parametrize(
    ("data", "expression"),
    [
        ({"resourceType": "Patient", "gender": "nam"}, "Patient.gender"),
        ({"resourceType": "Patient", "contact": [{"gender": "nu"}]}, "Patient.contact[0].gender"),
        ({"resourceType": "Observation", "status": "not-a-status", "code": {"text": "x"}}, "Observation.status"),
        ({"resourceType": "Bundle", "type": "transaction", "entry": [{"request": {"method": "FETCH", "url": "x"}}]},
         "Bundle.entry[0].request.method"),
        ({"resourceType": "Bundle", "type": "box"}, "Bundle.type"),
    ],
)
def test_resource_required_bindings(data, expression) -> None:
    issue = only_issue(data, expression, "code-invalid", "required binding", "use one of")
    assert "http://hl7.org/fhir/ValueSet/" in issue.diagnostics


def test_codeable_concept_binding() -> None:
    cond = condition()
    cond["clinicalStatus"]["coding"][0]["code"] = "on"
    only_issue(cond, "Condition.clinicalStatus.coding[0].code", "code-invalid", "active")
    cond = condition()
    cond["clinicalStatus"] = {"text": "active"}
    only_issue(cond, "Condition.clinicalStatus", "code-invalid", "coding")
    cond = condition()
    cond["clinicalStatus"]["coding"].append({"system": "http://example.org", "code": "local"})
    assert validate_resource(cond) == []  # one coding from the value set is enough


@pytest.mark.parametrize(
    ("mutate", "expression"),
    [
        (lambda p: p["name"][0].update(use="nick"), "Patient.name[0].use"),
        (lambda p: p["identifier"][0].update(use="main"), "Patient.identifier[0].use"),
        (lambda p: p["telecom"][0].update(system="mobile"), "Patient.telecom[0].system"),
        (lambda p: p["telecom"][0].update(use="cell"), "Patient.telecom[0].use"),
        (lambda p: p["address"][0].update(use="office"), "Patient.address[0].use"),
        (lambda p: p["address"][0].update(type="street"), "Patient.address[0].type"),
        (lambda p: p["text"].update(status="done"), "Patient.text.status"),
        (lambda p: p["contact"][0].update(telecom=[{"system": "tel", "value": "1"}]), "Patient.contact[0].telecom[0].system"),
    ],
)
def test_datatype_required_bindings(mutate, expression) -> None:
    data = patient()
    mutate(data)
    only_issue(data, expression, "code-invalid")


def test_datatype_bindings_in_quantity_profiles_and_timing() -> None:
    obs = observation()
    obs["valueQuantity"]["comparator"] = "~"
    only_issue(obs, "Observation.valueQuantity.comparator", "code-invalid", "<=")
    cond = condition()
    cond["onsetAge"]["comparator"] = "about"
    only_issue(cond, "Condition.onsetAge.comparator", "code-invalid")
    request = {
        "resourceType": "MedicationRequest", "status": "active", "intent": "order",
        "medicationCodeableConcept": {"text": "Paracetamol"}, "subject": {"reference": "Patient/p"},
        "dosageInstruction": [{"timing": {"repeat": {"frequency": 3, "period": 1, "periodUnit": "day",
                                                     "dayOfWeek": ["mon", "Tue"], "when": ["MORN", "PCM"]}}}],
    }
    found = by_path(request)
    base = "MedicationRequest.dosageInstruction[0].timing.repeat"
    assert set(found) == {f"{base}.periodUnit", f"{base}.dayOfWeek[1]"}
    assert all(i.code == "code-invalid" for issues in found.values() for i in issues)


#: resource types of R4B (fhir.resources) that R4 does not have; bindings listed for them never apply
R4B_ONLY_RESOURCES = frozenset({
    "AdministrableProductDefinition", "Citation", "ClinicalUseDefinition", "EvidenceReport", "Ingredient",
    "ManufacturedItemDefinition", "MedicinalProductDefinition", "NutritionProduct", "PackagedProductDefinition",
    "RegulatedAuthorization", "SubscriptionStatus", "SubscriptionTopic", "SubstanceDefinition",
})


def test_binding_files_resolve_to_model_elements() -> None:
    """Every listed binding lands on a coded element of the R4 table, with the listed codes.

    (It used to skip the R4-only resources and EvidenceVariable.type, which R4B changed; the
    table is R4, so now only the two Quantity profiles, which are not types of their own, are
    checked through Quantity.)"""
    table = structure()
    profiles = {"SimpleQuantity": "Quantity", "MoneyQuantity": "Quantity"}
    paths = {key: key for key in table.types} | {alias: key for key, aliases in table.aliases.items() for alias in aliases}
    for file_name in ("required-bindings.json", "datatype-required-bindings.json"):
        for key, spec in json.loads((DATA / file_name).read_text(encoding="utf-8")).items():
            owner, name = key.rsplit(".", 1)
            owner = profiles.get(owner, owner)
            if owner.split(".")[0] in R4B_ONLY_RESOURCES:
                assert owner.split(".")[0] not in known_resource_types(), key
                continue
            assert owner in paths, key
            meta = table.meta(paths[owner])
            names = meta.choices.get(name[:-3], ()) if name.endswith("[x]") else (name,)
            assert names, key
            for n in names:
                f = meta.fields[n]
                assert f.coded, key
                assert f.codes == frozenset(spec["codes"]), key


# --------------------------------------------------------------------------- all at once


def test_many_problems_reported_together() -> None:
    data = patient()
    data["active"] = "yes"
    data["gender"] = "nam"
    data["birthDate"] = "1980-13-01"
    data["name"][0]["given"][1] = ""
    data["telecom"] = {"system": "phone"}
    data["deceasedDateTime"] = "2020-01-01"
    data["foo"] = 1
    data["extension"][0]["valueString"] = "x"
    found = by_path(data)
    assert set(found) == {
        "Patient.active", "Patient.gender", "Patient.birthDate", "Patient.name[0].given[1]", "Patient.telecom",
        "Patient.deceased[x]", "Patient.foo", "Patient.extension[0].value[x]",
    }
    assert all(len(issues) == 1 for issues in found.values())


def test_walk_and_pydantic_do_not_duplicate() -> None:
    data = {"resourceType": "Observation", "code": {"text": "x"}, "status": "final",
            "valueQuantity": {"value": "1"}, "component": [{"code": {}}]}
    found = by_path(data)
    assert set(found) == {"Observation.valueQuantity.value", "Observation.component[0].code"}
    assert all(len(v) == 1 for v in found.values())


# --------------------------------------------------------------------------- robustness


def nested_extensions(depth: int) -> dict[str, Any]:
    inner: dict[str, Any] = {"url": "http://x", "valueString": "leaf"}
    for _ in range(depth):
        inner = {"url": "http://x", "extension": [inner]}
    return {"resourceType": "Patient", "extension": [inner]}


def test_deep_nesting_is_an_issue_not_a_crash() -> None:
    issues = validate_resource(nested_extensions(10_000))
    assert [i.code for i in issues] == ["too-costly"]
    assert "64" in issues[0].diagnostics and issues[0].expression[0].startswith("Patient.extension[0].extension[0]")


def test_deep_garbage_is_an_issue_not_a_crash() -> None:
    garbage: Any = "x"
    for i in range(10_000):
        garbage = [garbage] if i % 2 else {"a": garbage}
    for data in (garbage, {"resourceType": "Patient", "foo": garbage}, {"resourceType": "Patient", "contained": [garbage]}):
        issues = validate_resource(data)
        assert issues and all(isinstance(i, Issue) for i in issues)


def test_max_depth_parameter() -> None:
    assert validate_resource(nested_extensions(5)) == []
    assert [i.code for i in validate_resource(nested_extensions(5), max_depth=8)] == ["too-costly"]


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.decimals(allow_nan=True, allow_infinity=True), st.text(max_size=10),
    st.sampled_from(["male", "final", "2020-01-01", "http://x", "", " ", "Patient", "Observation"]),
)
element_names = st.one_of(
    st.sampled_from(["name", "given", "_given", "family", "extension", "url", "valueString", "valueQuantity", "value",
                     "active", "_active", "contained", "resourceType", "code", "coding", "status", "component",
                     "text", "div", "gender", "birthDate", "_birthDate", "entry", "resource", "request", "method",
                     "telecom", "id", "meta", "identifier", "system", "use"]),
    st.text(max_size=6),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(element_names, children, max_size=5)),
    max_leaves=30,
)
resources = st.builds(
    lambda rt, body: {**body, "resourceType": rt},
    st.sampled_from(["Patient", "Observation", "Bundle", "Parameters", "Encounter", "Foo"]),
    st.dictionaries(element_names, json_values, max_size=8),
)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(json_values, resources))
def test_arbitrary_json_never_raises(value: Any) -> None:
    issues = validate_resource(value)
    assert isinstance(issues, list) and all(isinstance(i, Issue) for i in issues)
    assert not [i for i in issues if i.code == "exception"], issues


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(VALID), st.data())
def test_mutated_valid_resources_never_raise(make, data) -> None:
    """Replace one node of a valid resource by arbitrary JSON: issues, never exceptions."""
    resource = make()
    containers: list[Any] = []
    stack: list[Any] = [resource]
    while stack:
        node = stack.pop()
        containers.append(node)
        stack.extend(v for v in (node.values() if isinstance(node, dict) else node) if isinstance(v, (dict, list)))
    target = data.draw(st.sampled_from(containers))
    if isinstance(target, dict) and target:
        target[data.draw(st.sampled_from(sorted(target)))] = data.draw(json_values)
    elif isinstance(target, list) and target:
        target[data.draw(st.integers(0, len(target) - 1))] = data.draw(json_values)
    issues = validate_resource(resource)
    assert all(isinstance(i, Issue) and i.expression for i in issues)
    assert not [i for i in issues if i.code == "exception"], issues


def test_all_models_have_walk_metadata() -> None:
    """Every element of every type maps to a primitive, a type of the table or a resource
    (no silent 'anything'), and every concrete resource type has elements."""
    table = structure()
    for name in known_resource_types():
        assert table.resource_meta(name) is not None and table.meta(name).fields
    for key in table.types:
        for f in table.meta(key).fields.values():
            assert f.prim is not None or f.is_resource or f.type_key in table.types, (key, f.name)
            if f.prim is not None:
                assert f.fmt is not None and f.fmt.name == f.prim, (key, f.name)


# --------------------------------------------------------------------------- the compiled R4 table


def test_validation_builds_no_models() -> None:
    """The write path does not import fhir.resources (or pydantic) at all."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from server.fhir.validation import validate_resource\n"
        "assert validate_resource({'resourceType': 'Patient', 'active': True, 'birthDate': '2000-01-01'}) == []\n"
        "assert validate_resource({'resourceType': 'Patient', 'active': 'yes'})\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('fhir', 'fhir_core', 'pydantic')]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])


def test_known_resource_types_are_r4() -> None:
    known = known_resource_types()
    assert {"EffectEvidenceSynthesis", "MedicinalProduct", "SubstanceSpecification"} <= known  # R4, not R4B
    assert not {"SubscriptionTopic", "Citation", "NutritionProduct"} & known  # R4B, not R4
    only_issue({"resourceType": "SubscriptionTopic"}, "resourceType", "structure", "Unknown resourceType")
    assert validate_resource({"resourceType": "EffectEvidenceSynthesis", "status": "draft",
                              "population": {"reference": "Group/1"}, "exposure": {"reference": "EvidenceVariable/1"},
                              "exposureAlternative": {"reference": "EvidenceVariable/2"},
                              "outcome": {"reference": "EvidenceVariable/3"}}) == []


def test_r4_wins_over_r4b_in_extensions_and_narrative() -> None:
    assert validate_resource({"resourceType": "Patient", "extension": [ext(valueMeta={"versionId": "1"})]}) == []
    found = by_path({"resourceType": "Patient", "extension": [ext(valueCodeableReference={"concept": {"text": "x"}})]})
    assert set(found) == {"Patient.extension[0].valueCodeableReference", "Patient.extension[0]"}  # unknown, so no value
    assert found["Patient.extension[0].valueCodeableReference"][0].code == "structure"
    assert validate_resource({"resourceType": "Patient", "extension": [ext(valueString="v", _valueString={"id": "s"})]}) == []
    data = patient()
    data["text"]["_div"] = {"extension": [ext()]}
    only_issue(data, "Patient.text._div", "structure", "'div' cannot carry a '_' companion")


def test_resource_and_element_ids_take_no_companion() -> None:
    only_issue({"resourceType": "Patient", "id": "p", "_id": {"id": "x"}}, "Patient._id", "structure", "'id'")
    only_issue({"resourceType": "Patient", "extension": [{**ext(), "_url": {"id": "u"}}]},
               "Patient.extension[0]._url", "structure", "'url'")


@pytest.mark.parametrize(("value", "valid"), [("2024-02-29", True), ("2023-02-29", False), ("2024-04-31", False),
                                              ("2024-02", True), ("0001", True), ("0000", False)])
def test_dates_must_exist(value: str, valid: bool) -> None:
    issues = validate_resource({"resourceType": "Patient", "birthDate": value})
    assert (issues == []) is valid, issues
    if not valid:
        assert issues[0].expression == ("Patient.birthDate",) and "date" in issues[0].diagnostics


def test_instant_needs_a_time_zone_and_time_none() -> None:
    only_issue({"resourceType": "Bundle", "type": "collection", "timestamp": "2024-05-01T10:00:00"},
               "Bundle.timestamp", "value", "instant", "time zone")
    obs = observation()
    obs["component"][0].pop("valueQuantity")
    obs["component"][0]["valueTime"] = "10:00:00+07:00"
    only_issue(obs, "Observation.component[0].valueTime", "value", "time")


def test_xml_whitespace_rules() -> None:
    # a no-break space is text, not whitespace, in FHIR (XML Schema) regexes
    assert validate_resource({"resourceType": "Patient", "name": [{"family": "Nguyễn\u00a0An"}], "language": "vi\u00a0VN"}) == []
    only_issue({"resourceType": "Patient", "name": [{"family": "\u00a0"}]}, "Patient.name[0].family", "value", "empty")
    only_issue({"resourceType": "Patient", "language": "vi\tVN "}, "Patient.language", "value", "code")


def test_content_references_reuse_the_backbone() -> None:
    questionnaire = {"resourceType": "Questionnaire", "status": "active", "item": [
        {"linkId": "1", "type": "group", "item": [{"linkId": "1.1", "type": "nope", "foo": 1}]}]}
    found = by_path(questionnaire)
    assert set(found) == {"Questionnaire.item[0].item[0].type", "Questionnaire.item[0].item[0].foo"}
    assert "Questionnaire.item has no such element" in found["Questionnaire.item[0].item[0].foo"][0].diagnostics
    invoice = {"resourceType": "Invoice", "status": "issued", "totalPriceComponent": [{"type": "fee"}]}
    only_issue(invoice, "Invoice.totalPriceComponent[0].type", "code-invalid", "invoice-priceComponentType")
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [{"link": [{"relation": "self"}]}]}
    only_issue(bundle, "Bundle.entry[0].link[0].url", "required", "Bundle.link")
