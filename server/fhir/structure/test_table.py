"""The runtime view of the table: choices, companions, required elements, bindings by path."""

from __future__ import annotations

from .table import CODE, CODING, CONCEPT, load_bindings, structure

S = structure()


def test_choices_expand_with_type_suffixes_in_definition_order() -> None:
    obs = S.meta("Observation")
    assert obs.choices["value"][:3] == ("valueQuantity", "valueCodeableConcept", "valueString")
    assert obs.choices["effective"] == ("effectiveDateTime", "effectivePeriod", "effectiveTiming", "effectiveInstant")
    assert obs.fields["valueQuantity"].type_key == "Quantity" and obs.fields["valueString"].prim == "string"
    assert S.meta("MedicationRequest").required_choices == ("medication",)
    assert "value" not in obs.required_choices


def test_required_lists_and_labels() -> None:
    obs = S.meta("Observation")
    assert {f.name for f in obs.required} == {"status", "code"}
    assert obs.fields["component"].is_list and not obs.fields["code"].is_list
    assert S.type_label(obs.fields["component"]) == "Observation.component"
    assert S.type_label(S.meta("Bundle.entry").fields["resource"]) == "a resource"


def test_companions() -> None:
    assert S.meta("Patient").fields["birthDate"].has_companion
    assert S.meta("HumanName").fields["given"].has_companion
    assert S.meta("Extension").fields["valueString"].has_companion  # R4 JSON allows _valueString
    assert not S.meta("Patient").fields["id"].has_companion  # System.String in the snapshot
    assert not S.meta("HumanName").fields["id"].has_companion
    assert not S.meta("Extension").fields["url"].has_companion
    assert not S.meta("Narrative").fields["div"].has_companion  # xhtml: no extensions in R4
    assert set(S.primitive_extension.fields) == {"id", "extension"}


def test_bindings_by_path_and_by_reuse() -> None:
    gender = S.meta("Patient").fields["gender"]
    assert gender.coded == CODE and gender.codes == frozenset({"male", "female", "other", "unknown"})
    assert S.meta("Patient.contact").fields["gender"].codes == gender.codes
    assert S.meta("Condition").fields["clinicalStatus"].coded == CONCEPT
    assert S.meta("Quantity").fields["comparator"].codes and S.meta("Age").fields["comparator"].codes
    assert S.meta("Coding").fields["code"].codes is None and S.meta("Coding").fields["code"].coded == CODE
    # Invoice.totalPriceComponent reuses Invoice.lineItem.priceComponent; its binding applies to both
    assert "Invoice.totalPriceComponent" in S.aliases["Invoice.lineItem.priceComponent"]
    total = S.meta("Invoice").fields["totalPriceComponent"]
    assert S.field_meta(total).fields["type"].codes
    assert S.meta("Questionnaire.item").fields["item"].type_key == "Questionnaire.item"
    assert S.meta("Meta").fields["security"].coded == CODING


def test_every_binding_is_loaded() -> None:
    assert len(load_bindings()) >= 340


def test_resource_types_are_concrete() -> None:
    assert {"Patient", "Bundle", "Parameters", "Binary", "EffectEvidenceSynthesis"} <= S.resource_types
    assert not {"Resource", "DomainResource", "HumanName", "Patient.contact", "SubscriptionTopic"} & S.resource_types
    assert S.resource_meta("DomainResource") is None and S.resource_meta("Patient") is S.meta("Patient")
