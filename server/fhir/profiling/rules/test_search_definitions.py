"""SearchParameter definitions and a CapabilityStatement's search parameters against the official R4 ones."""

from __future__ import annotations

from server.fhir.profiling import validate
from server.fhir.profiling.rules import search_definitions

NARRATIVE = {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">x</div>'}


def sp(**elements: object) -> dict:
    return {"resourceType": "SearchParameter", "text": NARRATIVE, "url": "http://fhir.example.vn/SearchParameter/x", "name": "X",
            "status": "draft", "description": "d", "code": "x", "base": ["Patient"], "type": "token", "expression": "Patient.gender", **elements}


def found(resource: dict) -> list[tuple[str, str]]:
    return [(i.expression[0], i.diagnostics.split(": ", 1)[1].split(" (rule:")[0]) for i in search_definitions.check(resource)]


def test_a_consistent_definition_passes() -> None:
    assert found(sp()) == []
    assert found(sp(base=["Patient", "Practitioner"], type="string", expression="Patient.name.family | (Practitioner.name as HumanName).family",
                    derivedFrom="http://hl7.org/fhir/SearchParameter/individual-family|4.0.1")) == []
    assert found(sp(base=["Resource"], expression="Resource.meta.tag | Patient.x")) == []
    assert found(sp(base=["Patient"], expression="Resource.id")) == []  # an ancestor type reads the same node


def test_a_composite_needs_two_components() -> None:
    one = [{"definition": "http://hl7.org/fhir/SearchParameter/Observation-code", "expression": "code"}]
    assert found(sp(type="composite", base=["Observation"], expression="Observation")) == [
        ("SearchParameter", "a composite search parameter must define two or more components")]
    assert len(found(sp(type="composite", base=["Observation"], expression="Observation", component=one))) == 1
    assert found(sp(type="composite", base=["Observation"], expression="Observation", component=one * 2)) == []


def test_the_expression_reads_only_its_bases() -> None:
    r = sp(expression="Organization.name | Patient.name.where(use = 'Practitioner.x') | Person.link.target.where(resolve() is Practitioner)")
    assert found(r) == [("SearchParameter.expression", "the expression reads Organization, which is not among the base types (Patient)"),
                        ("SearchParameter.expression", "the expression reads Person, which is not among the base types (Patient)")]


def test_derived_from_an_official_parameter_keeps_its_type_and_bases() -> None:
    r = sp(derivedFrom="http://hl7.org/fhir/SearchParameter/Organization-name", base=["Organization"], type="token", expression="Organization.name")
    assert found(r) == [("SearchParameter", "the type token is not the type string of http://hl7.org/fhir/SearchParameter/Organization-name, which it is derived from")]
    r = sp(derivedFrom="http://hl7.org/fhir/SearchParameter/Organization-name", type="string", expression="Patient.name")
    assert found(r) == [("SearchParameter", "the resource type Patient is not a base of http://hl7.org/fhir/SearchParameter/Organization-name, which it is derived from")]
    # not an official one: nothing to compare with
    assert found(sp(derivedFrom="http://fhir.example.vn/SearchParameter/Organization-name")) == []


def test_a_capability_statement_declares_official_parameters_with_their_type() -> None:
    cs = {"resourceType": "CapabilityStatement", "text": NARRATIVE, "status": "active", "date": "2026-01-01", "kind": "instance", "fhirVersion": "4.0.1",
          "format": ["json"], "rest": [{"mode": "server", "resource": [{"type": "Patient", "searchParam": [
              {"name": "birthdate", "definition": "http://hl7.org/fhir/SearchParameter/individual-birthdate", "type": "date"},
              {"name": "gender", "definition": "http://hl7.org/fhir/SearchParameter/individual-gender|4.0.1", "type": "string"},
              {"name": "cccd", "definition": "http://fhir.example.vn/SearchParameter/cccd", "type": "token"}]}],
              "searchParam": [{"name": "_id", "definition": "http://hl7.org/fhir/SearchParameter/Resource-id", "type": "string"}]}]}
    assert [p for p, _ in found(cs)] == ["CapabilityStatement.rest[0].resource[0].searchParam[1]", "CapabilityStatement.rest[0].searchParam[0]"]
    assert all(i.severity == "error" for i in validate(cs) if "search-parameter" in i.diagnostics)
