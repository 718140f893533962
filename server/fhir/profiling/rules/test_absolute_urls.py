"""Extension urls, code systems and canonical references must be absolute (fragments and nested extension names excepted)."""

from __future__ import annotations

from server.fhir.profiling import validate
from server.fhir.profiling.rules import absolute_urls

NARRATIVE = {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">x</div>'}


def paths(resource: dict) -> list[str]:
    return [i.expression[0] for i in absolute_urls.check(resource)]


def test_is_absolute() -> None:
    for ok in ("http://hl7.org/fhir/StructureDefinition/x", "urn:oid:1.2.3", "urn:uuid:0b7c1c7a-3d6f-4c2b-9a57-2f0c1f3e4d5a", "https://a.vn/x|1.0"):
        assert absolute_urls.is_absolute(ok), ok
    for bad in ("something", "Library/x", "Location!", "#vs", "", "http:", "http://a b"):
        assert not absolute_urls.is_absolute(bad), bad


def test_extension_urls_except_inside_a_complex_extension() -> None:
    r = {"resourceType": "Patient", "text": NARRATIVE,
         "extension": [{"url": "something", "valueString": "x"},
                       {"url": "http://hl7.org/fhir/StructureDefinition/patient-animal", "extension": [{"url": "species", "valueCodeableConcept": {"text": "dog"}}]}],
         "modifierExtension": [{"url": "local", "valueBoolean": True}],
         "birthDate": "2000", "_birthDate": {"extension": [{"url": "time", "valueTime": "10:00:00"}]}}
    assert paths(r) == ["Patient.extension[0]", "Patient.modifierExtension[0]", "Patient.birthDate.extension[0]"]
    [issue] = [i for i in validate(r) if i.expression == ("Patient.extension[0]",)]
    assert issue.severity == "error" and "Extension.url must be an absolute URL" in issue.diagnostics


def test_coding_systems_wherever_a_coding_is() -> None:
    r = {"resourceType": "Observation", "text": NARRATIVE, "status": "final",
         "code": {"coding": [{"system": "http://loinc.org", "code": "1"}, {"system": "Location!", "code": "2"}]},
         "component": [{"code": {"coding": [{"system": "loinc", "code": "3"}]}}], "valueCoding": {"system": "urn:oid:2.16.840.1.113883.6.1", "code": "4"}}
    assert paths(r) == ["Observation.code.coding[1].system", "Observation.component[0].code.coding[0].system"]


def test_canonicals_but_not_fragments_nor_other_uris() -> None:
    r = {"resourceType": "Measure", "text": NARRATIVE, "status": "draft", "url": "relative/uri/is/a/uri",
         "library": ["Library/cms146", "http://example.org/Library/a|1.0", "#lib"],
         "contained": [{"resourceType": "Library", "id": "lib", "status": "draft", "type": {"text": "logic"}}]}
    assert paths(r) == ["Measure.library[0]"]
    q = {"resourceType": "Questionnaire", "text": NARRATIVE, "status": "draft",
         "item": [{"linkId": "1", "type": "choice", "answerValueSet": "ValueSet/yes-no"}, {"linkId": "2", "type": "choice", "answerValueSet": "#vs"}]}
    assert paths(q) == ["Questionnaire.item[0].answerValueSet"]


def test_in_bundle_entries_too() -> None:
    b = {"resourceType": "Bundle", "type": "collection",
         "entry": [{"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient", "text": NARRATIVE, "extension": [{"url": "x", "valueString": "a"}]}}]}
    assert paths(b) == ["Bundle.entry[0].resource.extension[0]"]
