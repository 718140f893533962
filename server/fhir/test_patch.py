"""JSON Patch and FHIRPath Patch on a resource (the official FHIRPath Patch cases run from
benchmarks/fhir_test_cases.py when the collection is at hand)."""

from __future__ import annotations

from typing import Any

import pytest

from server.fhir.outcome import FhirError
from server.fhir.patch import apply_fhirpath_patch, apply_json_patch

PATIENT = {"resourceType": "Patient", "id": "p", "identifier": [{"system": "urn:a", "value": "1"}, {"system": "urn:b", "value": "2"}],
           "name": [{"family": "Lê", "given": ["Văn"]}], "contact": [{"gender": "male", "name": {"text": "x"}}]}


def _op(kind: str, path: str, **parts: Any) -> dict:
    out = [{"name": "type", "valueCode": kind}, {"name": "path", "valueString": path}]
    for name, value in parts.items():
        if name == "value":
            out.append({"name": "value", **value})
        else:
            out.append({"name": name, ("valueInteger" if isinstance(value, int) else "valueString"): value})
    return {"name": "operation", "part": out}


def _fp(*ops: dict) -> dict:
    return {"resourceType": "Parameters", "parameter": list(ops)}


def test_each_fhirpath_operation() -> None:
    r = apply_fhirpath_patch(PATIENT, _fp(
        _op("replace", "Patient.identifier.where(system='urn:b').value", value={"valueString": "9"}),
        _op("add", "Patient", name="birthDate", value={"valueDate": "1990-02-03"}),
        _op("add", "Patient", name="identifier", value={"valueIdentifier": {"system": "urn:c", "value": "3"}}),
        _op("insert", "Patient.identifier", index=0, value={"valueIdentifier": {"value": "0"}}),
        _op("move", "Patient.identifier", source=3, destination=1),
        _op("delete", "Patient.contact[0].name.text"),
        _op("add", "Patient.name[0]", name="given", value={"valueString": "An"}),
    ))
    assert [i["value"] for i in r["identifier"]] == ["0", "3", "1", "9"]
    assert r["birthDate"] == "1990-02-03" and r["name"][0]["given"] == ["Văn", "An"]
    assert r["contact"] == [{"gender": "male"}]  # the emptied name is gone, not left as {}
    assert PATIENT["identifier"][1]["value"] == "2"  # the input is not changed


def test_an_anonymous_type_is_built_from_parts() -> None:
    value = {"name": "value", "part": [{"name": "name", "valueHumanName": {"text": "Bà Lan"}}, {"name": "gender", "valueCode": "female"}]}
    op = {"name": "operation", "part": [{"name": "type", "valueCode": "add"}, {"name": "path", "valueString": "Patient"},
                                        {"name": "name", "valueString": "contact"}, value]}
    assert apply_fhirpath_patch(PATIENT, _fp(op))["contact"][-1] == {"name": {"text": "Bà Lan"}, "gender": "female"}


def test_deleting_what_is_not_there_changes_nothing() -> None:
    assert apply_fhirpath_patch(PATIENT, _fp(_op("delete", "Patient.birthDate"))) == PATIENT


@pytest.mark.parametrize(("ops", "status", "text"), [
    ([_op("replace", "Patient.birthDate", value={"valueDate": "2000-01-01"})], 422, "matches no element"),
    ([_op("replace", "Patient.identifier.value", value={"valueString": "x"})], 422, "more than one"),
    ([_op("add", "Patient", name="gender", value={"valueCode": "male"}), _op("add", "Patient", name="gender", value={"valueCode": "male"})], 422, "use replace"),
    ([_op("replace", "Patient.identifier.select(value)", value={"valueString": "x"})], 422, "select() is not supported"),
    ([_op("insert", "Patient.identifier", index=7, value={"valueIdentifier": {}})], 422, "outside the list"),
])
def test_an_operation_that_cannot_apply_is_422_naming_it(ops: list, status: int, text: str) -> None:
    with pytest.raises(FhirError) as caught:
        apply_fhirpath_patch(PATIENT, _fp(*ops))
    assert caught.value.status == status and text in caught.value.issues[0].diagnostics


def test_every_malformed_operation_is_reported_at_once() -> None:
    bad = _fp({"name": "op"}, {"name": "operation", "part": [{"name": "type", "valueCode": "frobnicate"}]},
              {"name": "operation", "part": [{"name": "type", "valueCode": "add"}, {"name": "path", "valueString": "Patient"}]})
    with pytest.raises(FhirError) as caught:
        apply_fhirpath_patch(PATIENT, bad)
    assert caught.value.status == 400 and len(caught.value.issues) == 3
    assert [i.expression[0] for i in caught.value.issues] == ["Parameters.parameter[0]", "Parameters.parameter[1].part", "Parameters.parameter[2].part"]


def test_json_patch() -> None:
    r = apply_json_patch(PATIENT, [{"op": "replace", "path": "/name/0/family", "value": "Trần"}, {"op": "add", "path": "/active", "value": True}])
    assert r["name"][0]["family"] == "Trần" and r["active"] is True
    with pytest.raises(FhirError) as caught:
        apply_json_patch(PATIENT, [{"op": "test", "path": "/id", "value": "other"}])
    assert caught.value.status == 422
    with pytest.raises(FhirError) as caught:
        apply_json_patch(PATIENT, {"op": "add"})
    assert caught.value.status == 400
