"""The typed walk: each element with its paths and its R4 type, whatever the JSON looks like."""

from __future__ import annotations

from server.fhir.profiling.typed import elements


def table(resource: object) -> dict[str, tuple[str, str, str]]:
    return {e.path: (e.literal, e.definition, e.type) for e in elements(resource)}  # type: ignore[arg-type]


def test_paths_and_types_of_datatypes_backbones_primitives_and_companions() -> None:
    got = table({"resourceType": "Patient", "name": [{"family": "A", "given": ["B", None], "_given": [None, {"extension": [{"url": "urn:x", "valueCode": "c"}]}]}],
                 "contact": [{"name": {"text": "C"}}], "birthDate": "1990"})
    assert got["Patient"] == ("Patient", "Patient", "Patient")
    assert got["Patient.name[0]"] == ("Patient.name", "Patient.name", "HumanName")
    assert got["Patient.name[0].family"] == ("Patient.name.family", "HumanName.family", "string")
    assert got["Patient.name[0].given[1]"] == ("Patient.name.given", "HumanName.given", "string")  # only its companion is given
    assert got["Patient.name[0].given[1].extension[0]"] == ("Patient.name.given.extension", "HumanName.given.extension", "Extension")
    assert got["Patient.name[0].given[1].extension[0].valueCode"] == ("Patient.name.given.extension.valueCode", "Extension.value[x]", "code")
    assert got["Patient.contact[0]"] == ("Patient.contact", "Patient.contact", "BackboneElement")
    assert got["Patient.contact[0].name.text"] == ("Patient.contact.name.text", "HumanName.text", "string")
    assert got["Patient.birthDate"] == ("Patient.birthDate", "Patient.birthDate", "date")


def test_contained_resources_restart_the_literal_path_and_content_references_keep_their_definition() -> None:
    q = {"resourceType": "Questionnaire", "item": [{"linkId": "1", "item": [{"linkId": "2"}]}]}
    got = table({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "QuestionnaireResponse", "contained": [q]}}]})
    assert got["Bundle.entry[0].resource"] == ("QuestionnaireResponse", "QuestionnaireResponse", "QuestionnaireResponse")
    assert got["Bundle.entry[0].resource.contained[0].item[0].item[0]"] == ("Questionnaire.item.item", "Questionnaire.item", "BackboneElement")


def test_type_chains() -> None:
    by_path = {e.path: e for e in elements({"resourceType": "Observation", "valueQuantity": {"value": 1}, "component": [{"valueString": "x"}],
                                             "_status": {"id": "s"}})}
    assert by_path["Observation"].types() == ["Observation", "DomainResource", "Resource"]
    assert by_path["Observation.valueQuantity"].types() == ["Quantity", "Element"]
    assert by_path["Observation.component[0]"].types() == ["BackboneElement", "Element"]
    assert by_path["Observation.status"].types() == ["code", "string", "Element"]


def test_wrong_shapes_and_unknown_elements_are_skipped() -> None:
    got = table({"resourceType": "Patient", "name": "not an object", "nope": {"a": 1}, "telecom": [1, None, {"value": "1"}], "_birthDate": [1]})
    assert set(got) == {"Patient", "Patient.telecom[2]", "Patient.telecom[2].value"}
    assert table({"resourceType": "Nope"}) == {} and table({"resourceType": 3}) == {}
