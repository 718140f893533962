"""A Questionnaire item's enableWhen must not depend on a question inside it; a later one is a warning."""

from __future__ import annotations

from server.fhir.profiling import validate
from server.fhir.profiling.rules import enable_when

NARRATIVE = {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">x</div>'}


def q(*items: dict) -> dict:
    return {"resourceType": "Questionnaire", "text": NARRATIVE, "status": "draft", "item": list(items)}


def when(question: str) -> list[dict]:
    return [{"question": question, "operator": "=", "answerBoolean": True}]


def found(resource: dict) -> list[tuple[str, str]]:
    return [(i.severity, i.expression[0]) for i in enable_when.check(resource)]


def test_depending_on_an_inner_question_is_an_error() -> None:
    r = q({"linkId": "g", "type": "group", "enableWhen": when("inner"),
           "item": [{"linkId": "x", "type": "group", "item": [{"linkId": "inner", "type": "boolean"}]}]})
    assert found(r) == [("error", "Questionnaire.item[0]")]
    [issue] = [i for i in validate(r) if "(rule: enableWhen" in i.diagnostics]
    assert "cannot depend on a question inside it ('inner')" in issue.diagnostics


def test_an_earlier_question_anywhere_is_fine_and_a_later_one_a_warning() -> None:
    r = q({"linkId": "smoker", "type": "boolean"},
          {"linkId": "g", "type": "group", "item": [{"linkId": "packs", "type": "integer", "enableWhen": when("smoker")},
                                                   {"linkId": "early", "type": "integer", "enableWhen": when("later")}]},
          {"linkId": "later", "type": "boolean"})
    assert found(r) == [("warning", "Questionnaire.item[1].item[1]")]


def test_unknown_targets_and_malformed_items_say_nothing_here() -> None:
    assert found(q({"linkId": "a", "type": "boolean", "enableWhen": when("nowhere")})) == []
    assert found(q({"linkId": "a", "type": "boolean", "enableWhen": "x", "item": "y"}, "z")) == []


def test_questionnaires_in_a_bundle() -> None:
    inner = q({"linkId": "g", "type": "group", "enableWhen": when("c"), "item": [{"linkId": "c", "type": "boolean"}]})
    b = {"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "urn:uuid:1", "resource": inner}]}
    assert found(b) == [("error", "Bundle.entry[0].resource.item[0]")]
