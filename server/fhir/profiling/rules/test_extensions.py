"""Extensions against their definitions: R4's (derived data), the registry's, cross-version ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.fhir.profiling import ProfileRegistry, validate
from server.fhir.profiling.compile_extensions import compile_extensions, cross_version
from server.fhir.profiling.rules.extensions import core, summarize

CORE = "http://hl7.org/fhir/StructureDefinition/"
DATA = Path(__file__).resolve().parents[1] / "testdata"


def patient(**content: object) -> dict:
    return {"resourceType": "Patient", "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">A</div>'}, **content}


def ext_errors(resource: dict, **options: object) -> list[str]:
    return [i.diagnostics for i in validate(resource, **options) if i.severity == "error" and "rule: extension" in i.diagnostics]


# --------------------------------------------------------------------------- unknown extensions


def test_unknown_extension_is_an_error_by_default_and_a_warning_on_request() -> None:
    r = patient(extension=[{"url": "http://vendor.vn/fhir/StructureDefinition/loyalty", "valueString": "gold"}])
    [d] = ext_errors(r)
    assert d.startswith("Patient.extension[0]: the extension http://vendor.vn/fhir/StructureDefinition/loyalty is not known")
    issues = validate(r, unknown_extension="warning")
    assert [i.severity for i in issues if "rule: extension" in i.diagnostics] == ["warning"]


def test_unknown_extension_on_a_primitive_names_the_primitive_path() -> None:
    r = patient(birthDate="1990-01-01", _birthDate={"extension": [{"url": "http://vendor.vn/age", "valueInteger": 34}]})
    [d] = ext_errors(r)
    assert d.startswith("Patient.birthDate.extension[0]: the extension http://vendor.vn/age is not known")


def test_example_and_cross_version_urls_are_known_elsewhere() -> None:
    r = patient(extension=[{"url": "http://example.org/fhir/StructureDefinition/x", "valueString": "a"},
                           {"url": "http://hl7.org/fhir/5.0/StructureDefinition/extension-Patient.name", "valueString": "b"}])
    assert ext_errors(r) == []
    [d] = ext_errors(r, examples=False)  # examples not allowed: example.org is just unknown
    assert "http://example.org/fhir/StructureDefinition/x is not known" in d


def test_a_relative_extension_url_is_said_once_and_sub_extension_urls_need_not_be_absolute() -> None:
    from server.fhir.profiling import validate

    assert ext_errors(patient(extension=[{"url": "something", "valueString": "x"}])) == []  # absolute_urls says it
    said = [i for i in validate(patient(extension=[{"url": "something", "valueString": "x"}])) if "'something'" in i.diagnostics]
    assert len(said) == 1 and said[0].severity == "error"
    animal = {"url": CORE + "patient-animal", "extension": [{"url": "species", "valueCodeableConcept": {"text": "dog"}}]}
    assert ext_errors(patient(extension=[animal])) == []


# --------------------------------------------------------------------------- R4's definitions


def test_context_path_from_a_type() -> None:
    own_name = {"url": CORE + "humanname-own-name", "valueString": "Nguyễn"}
    assert ext_errors(patient(name=[{"family": "Nguyễn", "_family": {"extension": [own_name]}}])) == []
    [d] = ext_errors(patient(name=[{"family": "Nguyễn", "extension": [own_name]}]))
    assert d.startswith("Patient.name[0].extension[0]: the extension http://hl7.org/fhir/StructureDefinition/humanname-own-name is not allowed on Patient.name (HumanName); its definition allows it on: HumanName.family")


def test_context_path_from_the_resource_and_element_anywhere() -> None:
    birth_time = {"url": CORE + "patient-birthTime", "valueDateTime": "1990-01-01T08:00:00+07:00"}
    assert ext_errors(patient(birthDate="1990-01-01", _birthDate={"extension": [birth_time]})) == []
    assert ext_errors(patient(extension=[birth_time]))  # on Patient itself: not allowed
    absent = {"url": CORE + "data-absent-reason", "valueCode": "unknown"}  # context Element
    assert ext_errors(patient(gender="unknown", _gender={"extension": [absent]}, name=[{"extension": [absent], "text": "A"}])) == []


def test_context_inside_contained_and_datatype_contexts() -> None:
    item_control = {"url": CORE + "questionnaire-itemControl", "valueCodeableConcept": {"text": "drop-down"}}
    q = {"resourceType": "Questionnaire", "status": "draft", "item": [{"linkId": "1", "type": "group", "item": [{"linkId": "1.1", "type": "choice", "extension": [item_control]}]}]}
    qr = {"resourceType": "QuestionnaireResponse", "status": "completed", "contained": [q]}
    assert ext_errors(qr) == []  # Questionnaire.item.item, from the contained resource
    misplaced = dict(q, extension=[item_control])
    [d] = ext_errors(dict(qr, contained=[misplaced]))
    assert d.startswith("QuestionnaireResponse.contained[0].extension[0]: the extension http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl is not allowed on Questionnaire")


def test_value_type_must_be_one_the_definition_allows() -> None:
    link = {"url": CORE + "narrativeLink", "valueUri": "#a"}
    [d] = ext_errors(patient(extension=[link]))
    assert d.startswith("Patient.extension[0].valueUri: the extension http://hl7.org/fhir/StructureDefinition/narrativeLink takes a value of type url, not uri")
    assert ext_errors(patient(extension=[{"url": CORE + "narrativeLink", "valueUrl": "#a"}])) == []


def test_modifier_extensions_only_as_modifier_extension_and_back() -> None:
    do_not = {"url": CORE + "request-doNotPerform", "valueBoolean": True}
    order = {"resourceType": "NutritionOrder", "status": "active", "intent": "order", "patient": {"reference": "Patient/1"}, "dateTime": "2024-01-01"}
    assert ext_errors(dict(order, modifierExtension=[do_not])) == []
    [d] = ext_errors(dict(order, extension=[do_not]))
    assert "is a modifier extension, so it must be given as a modifierExtension" in d
    maiden = {"url": CORE + "patient-mothersMaidenName", "valueString": "Trần"}
    [d] = ext_errors(patient(modifierExtension=[maiden]))
    assert "is not a modifier extension, so it must be given as an extension" in d


def test_complex_extension_sub_extensions() -> None:
    def animal(*subs: tuple[str, str]) -> dict:
        return patient(extension=[{"url": CORE + "patient-animal", "extension": [{"url": u, "valueCodeableConcept": {"text": t}} for u, t in subs]}])

    assert ext_errors(animal(("species", "dog"), ("breed", "shiba"))) == []
    [d] = ext_errors(animal(("breed", "shiba")))
    assert d.startswith("Patient.extension[0]: the extension http://hl7.org/fhir/StructureDefinition/patient-animal requires the sub-extension 'species' at least 1 time(s); found 0")
    [d] = ext_errors(animal(("species", "dog"), ("colour", "red")))
    assert d.startswith("Patient.extension[0].extension[1]: the sub-extension url 'colour' is not defined by the extension http://hl7.org/fhir/StructureDefinition/patient-animal (it defines species, breed, genderStatus)")
    [d] = ext_errors(animal(("species", "dog"), ("species", "cat")))
    assert "allows the sub-extension 'species' at most 1 time(s); found 2" in d


def test_cross_version_modifier_element() -> None:
    animal = {"url": "http://hl7.org/fhir/1.0/StructureDefinition/extension-Patient.animal",
              "extension": [{"url": "species", "valueCodeableConcept": {"text": "dog"}}]}
    assert ext_errors(patient(modifierExtension=[animal])) == []
    [d] = ext_errors(patient(extension=[animal]))
    assert "extension-Patient.animal is a modifier extension" in d
    bad = dict(animal, extension=[*animal["extension"], {"url": "x-breed", "valueString": "shiba"}])
    assert any("the sub-extension url 'x-breed' is not defined" in d for d in ext_errors(patient(modifierExtension=[bad])))


# --------------------------------------------------------------------------- the registry's definitions


@pytest.fixture
def registry() -> ProfileRegistry:
    return ProfileRegistry(json.loads(p.read_text("utf-8")) for p in sorted(DATA.glob("*.json")))


COLOUR = "urn:test:StructureDefinition/colour"


def test_registry_definition_applies_wherever_the_extension_is(registry: ProfileRegistry) -> None:
    wrong = {"url": COLOUR, "valueString": "red"}
    r = patient(name=[{"family": "A", "extension": [wrong]}])  # no profile claimed; colour's context is Patient
    errors = [i.diagnostics for i in validate(r, registry=registry) if i.severity == "error"]
    assert any(d.startswith(f"Patient.name[0].extension[0]: the extension {COLOUR} is not allowed on Patient.name (HumanName)") for d in errors), errors
    assert any(d.startswith(f"Patient.name[0].extension[0].valueString: type String is not allowed here; the profile allows Coding (rule: type; profile: {COLOUR})") for d in errors), errors


def test_registry_definition_is_applied_once_where_a_claimed_profile_slices_it_in(registry: ProfileRegistry) -> None:
    r = patient(meta={"profile": ["urn:test:StructureDefinition/test-patient"]}, extension=[{"url": COLOUR, "valueString": "red"}])
    errors = [i.diagnostics for i in validate(r, registry=registry) if i.severity == "error"]
    assert len([d for d in errors if d.startswith("Patient.extension[0].valueString: type String is not allowed here")]) == 1, errors


# --------------------------------------------------------------------------- summaries and the derived data


def test_summarize_a_differential() -> None:
    sd = {"resourceType": "StructureDefinition", "url": "urn:x", "type": "Extension", "derivation": "constraint",
          "context": [{"type": "element", "expression": "Patient"}, {"type": "extension", "expression": "urn:parent"}],
          "differential": {"element": [
              {"id": "Extension", "path": "Extension", "isModifier": True},
              {"id": "Extension.extension:a", "path": "Extension.extension", "sliceName": "a", "min": 1, "max": "1"},
              {"id": "Extension.extension:a.url", "path": "Extension.extension.url", "fixedUri": "a"},
              {"id": "Extension.extension:a.value[x]", "path": "Extension.extension.value[x]", "type": [{"code": "string"}]},
              {"id": "Extension.extension:b", "path": "Extension.extension", "sliceName": "b", "type": [{"code": "Extension", "profile": ["urn:other"]}]},
              {"id": "Extension.value[x]", "path": "Extension.value[x]", "max": "0"}]}}
    assert summarize(sd) == {"context": ["Patient"], "contextExtension": ["urn:parent"], "modifier": True,
                             "extension": {"a": {"value": ["string"], "min": 1, "max": "1"}, "urn:other": {"min": 0, "max": "*"}}}


def test_compile_applies_the_context_errata_and_keeps_only_extensions() -> None:
    fhir_type = {"resourceType": "StructureDefinition", "url": CORE + "structuredefinition-fhir-type", "type": "Extension", "derivation": "constraint",
                 "context": [{"type": "element", "expression": "ElementDefinition.type.code"}],
                 "snapshot": {"element": [{"id": "Extension", "path": "Extension"}, {"id": "Extension.value[x]", "path": "Extension.value[x]", "type": [{"code": "url"}]}]}}
    profile = {"resourceType": "StructureDefinition", "url": "urn:p", "type": "Patient", "derivation": "constraint"}
    data = compile_extensions([fhir_type, profile])
    assert data["extension"] == {CORE + "structuredefinition-fhir-type": {"context": ["ElementDefinition.type.code", "ElementDefinition.type"], "value": ["url"]}}


def test_cross_version_keeps_modifier_elements_with_their_children() -> None:
    dstu2_patient = {"resourceType": "StructureDefinition", "kind": "resource", "snapshot": {"element": [
        {"path": "Patient"}, {"path": "Patient.active", "isModifier": True}, {"path": "Patient.implicitRules", "isModifier": True},
        {"path": "Patient.gender"}, {"path": "Patient.deceased[x]", "isModifier": True},
        {"path": "Patient.animal", "isModifier": True}, {"path": "Patient.animal.id"},
        {"path": "Patient.animal.species", "min": 1, "max": "1"}, {"path": "Patient.animal.breed", "min": 0, "max": "1"}]}}
    profile = {"resourceType": "StructureDefinition", "kind": "resource", "constrainedType": "Patient", "snapshot": {"element": [{"path": "Patient.x", "isModifier": True}]}}
    assert cross_version([dstu2_patient, profile]) == {
        "Patient.active": {"modifier": True, "value": "*"},
        "Patient.animal": {"modifier": True, "extension": {"species": {"value": "*", "min": 1, "max": "1"}, "breed": {"value": "*", "min": 0, "max": "1"}}},
        "Patient.deceased": {"modifier": True, "value": "*"}}


def test_the_derived_data_holds_r4_as_published() -> None:
    defs = core()
    assert len(defs) == 396
    assert defs[CORE + "patient-animal"]["extension"]["species"] == {"value": ["CodeableConcept"], "min": 1, "max": "1"}
    assert defs[CORE + "request-doNotPerform"]["modifier"] is True
    assert defs[CORE + "humanname-mothers-family"]["context"] == ["HumanName.family"]
