"""The build-time extraction of the R4 invariants, on small hand-written definitions."""

from __future__ import annotations

import pytest

from server.fhir.profiling import compile_invariants as ci


def sd(name: str, elements: list[dict], derivation: str = "specialization", kind: str = "complex-type") -> dict:
    return {"resourceType": "StructureDefinition", "url": f"http://hl7.org/fhir/StructureDefinition/{name}", "type": name.split("-")[0],
            "kind": kind, "derivation": derivation, "fhirVersion": "4.0.1", "snapshot": {"element": elements}}


def c(key: str, expression: str, source: str | None = None, severity: str = "error") -> dict:
    out = {"key": key, "severity": severity, "human": f"rule {key}", "expression": expression, "xpath": "x"}
    return dict(out, source=source) if source else out


ELE_1 = c("ele-1", "hasValue() or (children().count() > id.count())", "http://hl7.org/fhir/StructureDefinition/Element")
DEFINITIONS = [
    sd("Element", [{"path": "Element", "constraint": [c("ele-1", "hasValue() or (children().count() > id.count())")]},
                   {"path": "Element.extension", "constraint": [c("ele-1", "hasValue() or (children().count() > id.count())"), c("ext-1", "extension.exists() != value.exists()")]}]),
    sd("Period", [{"path": "Period", "constraint": [ELE_1, c("per-1", "start <= end")]}, {"path": "Period.start", "constraint": [ELE_1]}]),
    sd("Questionnaire", [{"path": "Questionnaire", "constraint": [c("dom-6", "text.`div`.exists()", "http://hl7.org/fhir/StructureDefinition/DomainResource", "warning")]},
                         {"path": "Questionnaire.item", "constraint": [ELE_1, c("que-12", ci.CORRECTIONS["que-12"][0])]}], kind="resource"),
    sd("SimpleQuantity", [{"path": "Quantity", "constraint": [c("sqty-1", "comparator.empty()")]}], derivation="constraint"),
    {"resourceType": "ValueSet", "url": "urn:vs"},
]


def test_own_invariants_of_base_types_with_corrections_and_skips() -> None:
    data = ci.compile_invariants(DEFINITIONS)
    rows = [(i["key"], i["context"], i["severity"]) for i in data["invariant"]]
    # Element first; inherited copies (source) and repeats once; profiles (SimpleQuantity) left out
    assert rows == [("ele-1", "Element", "error"), ("ext-1", "Element.extension", "error"), ("per-1", "Period", "error"),
                    ("que-12", "Questionnaire.item", "error")]
    ele, _, per, que = data["invariant"]
    assert ele["skip"] == ci.SKIP["ele-1"] and "skip" not in per
    assert per == {"key": "per-1", "context": "Period", "severity": "error", "human": "rule per-1", "expression": "start <= end"}
    assert que["expression"] == ci.CORRECTIONS["que-12"][0] and que["corrected"]["expression"] == ci.CORRECTIONS["que-12"][1]
    assert data["fhirVersion"] == "4.0.1" and "compile_invariants" in data["about"]


def test_a_correction_applies_only_to_the_expression_it_was_written_for() -> None:
    changed = sd("Questionnaire", [{"path": "Questionnaire.item", "constraint": [c("que-12", "enableWhen.count() > 5 implies enableBehavior.exists()")]}], kind="resource")
    with pytest.raises(ValueError, match="que-12"):
        ci.compile_invariants([changed])


def test_dumps_one_invariant_a_line() -> None:
    text = ci.dumps(ci.compile_invariants(DEFINITIONS))
    assert text.count('\n    {"key"') == 4
