"""Search-value extraction: the expression subset and the token rows it yields."""

from __future__ import annotations

from server.fhir.search.extract import extract_index
from server.fhir.search.fhirpath_lite import compile_expression, evaluate
from server.fhir.search.registry import SearchRegistry
from server.fhir.search.tokens import parse_token
from server.storage.index import ANY, TokenMatch, TokenValue


def test_expression_shapes() -> None:
    obs = {"resourceType": "Observation", "valueQuantity": {"value": 1}, "subject": {"reference": "Patient/1"}, "component": [{"valueCodeableConcept": {"text": "a"}}]}
    assert evaluate(compile_expression("(Observation.value as Quantity)")["Observation"], obs) == [{"value": 1}]
    assert evaluate(compile_expression("Observation.value.as(Quantity)")["Observation"], obs) == [{"value": 1}]
    assert evaluate(compile_expression("Observation.subject.where(resolve() is Patient)")["Observation"], obs) == [{"reference": "Patient/1"}]
    assert evaluate(compile_expression("Observation.subject.where(resolve() is Group)")["Observation"], obs) == []
    union = compile_expression("Patient.gender | Practitioner.gender")
    assert set(union) == {"Patient", "Practitioner"}
    assert compile_expression("Patient.deceased.exists() and Patient.deceased != false") is None


def test_telecom_where_and_token_rows() -> None:
    registry = SearchRegistry({"Patient"})
    patient = {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:cccd", "value": "001085012345", "type": {"text": "CCCD"}}],
        "telecom": [{"system": "phone", "value": "0912"}, {"system": "email", "value": "a@b.vn"}],
        "gender": "female",
        "active": False,
    }
    rows = set(extract_index(registry, patient))
    assert TokenValue("identifier", "urn:cccd", "001085012345", "cccd") in rows
    assert TokenValue("email", "email", "a@b.vn") in rows
    assert not any(r.param == "email" and r.code == "0912" for r in rows)
    assert TokenValue("gender", None, "female") in rows
    assert TokenValue("active", None, "false") in rows


def test_parse_token_forms() -> None:
    assert parse_token("identifier", "123") == TokenMatch("identifier", ANY, "123")
    assert parse_token("identifier", "urn:x|123") == TokenMatch("identifier", "urn:x", "123")
    assert parse_token("identifier", "|123") == TokenMatch("identifier", None, "123")
    assert parse_token("identifier", "urn:x|") == TokenMatch("identifier", "urn:x", None)


def test_choice_element_named_without_type() -> None:
    obs = {"resourceType": "Observation", "effectivePeriod": {"start": "2025"}, "valueString": "x"}
    assert evaluate(compile_expression("Observation.effective")["Observation"], obs) == [{"start": "2025"}]
    assert evaluate(compile_expression("Observation.value")["Observation"], obs) == ["x"]


def test_value_string_and_deceased() -> None:
    registry = SearchRegistry({"Patient", "Observation"})
    obs = {"resourceType": "Observation", "valueCodeableConcept": {"text": "Dương tính"}}
    assert [r.norm for r in extract_index(registry, obs) if r.param == "value-string"] == ["duong tinh"]
    dead = {"resourceType": "Patient", "deceasedDateTime": "2025-01-01"}
    assert TokenValue("deceased", None, "true") in extract_index(registry, dead)
    alive = {"resourceType": "Patient", "deceasedBoolean": False}
    assert TokenValue("deceased", None, "false") in extract_index(registry, alive)
