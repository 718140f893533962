"""HTML-like tags in strings and markdown: found where they are, off unless asked, and the setting
that makes writes refuse them."""

from __future__ import annotations

import pytest

from server.config import Settings
from server.fhir.outcome import FhirError
from server.fhir.profiling import validate
from server.fhir.profiling.rules.security import check, html_tag
from server.fhir.repository import Repository

NARRATIVE = {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml"><b>An</b></div>'}


def patient(text: str) -> dict:
    return {"resourceType": "Patient", "text": NARRATIVE, "name": [{"text": text}]}


@pytest.mark.parametrize("text", ["Standard <script>alert(1)</script>", "<img src=x onerror=alert(1)>", "a</b>", "<br/>", "<svg:a>"])
def test_tags_are_found(text: str) -> None:
    assert html_tag(text) is not None


@pytest.mark.parametrize("text", ["a < b", "x<3 mmol/L", "<= 5", "<5 tuổi", "a <-> b", "<<a>>"[0:2] + " >", "Nguyễn Văn An", "1 < 2 > 0"])
def test_ordinary_text_is_not_a_tag(text: str) -> None:
    assert html_tag(text) is None


def test_off_by_default_and_errors_when_asked() -> None:
    r = patient("Standard <script>somescript</script>")
    assert check(r) == [] and not [i for i in validate(r) if i.code == "security"]
    [issue] = check(r, strings=True)
    assert issue.severity == "error" and issue.expression == ("Patient.name[0].text",)
    assert issue.diagnostics.startswith("Patient.name[0].text: the string contains text that looks like an embedded HTML tag (<script>)")
    assert [i.expression for i in validate(r, security_checks=True) if i.code == "security"] == [("Patient.name[0].text",)]


def test_everywhere_but_the_narrative_and_markdown_has_its_own_switch() -> None:
    note = {"resourceType": "Communication", "status": "completed", "text": NARRATIVE,
            "note": [{"text": "see <resource type>"}],
            "contained": [{"resourceType": "Patient", "extension": [{"url": "urn:x", "valueString": "<b>x</b>"}]}],
            "statusReason": {"coding": [{"code": "<i>c</i>"}]}}
    assert {i.expression[0] for i in check(note, strings=True)} == {"Communication.contained[0].extension[0].valueString", "Communication.statusReason.coding[0].code"}
    assert [i.expression[0] for i in check(note, markdown=True)] == ["Communication.note[0].text"]
    assert [i.expression[0] for i in validate(note, no_html_in_markdown=True, unknown_extension="warning") if i.code == "security"] == ["Communication.note[0].text"]


def test_the_setting_refuses_such_writes() -> None:
    assert Settings().security_checks is False
    secure = Repository(None, Settings(security_checks=True))  # type: ignore[arg-type]
    with pytest.raises(FhirError) as err:
        secure.prepare("Patient", "p1", patient("<script>x</script>"))
    assert err.value.status == 422 and err.value.issues[0].expression == ("Patient.name[0].text",)
    secure.prepare("Patient", "p1", patient("Nguyễn Văn An"))
    Repository(None, Settings()).prepare("Patient", "p1", patient("<script>x</script>"))  # type: ignore[arg-type]


def test_setting_from_env_and_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from server.cli import build_parser

    monkeypatch.setenv("LIENTHONG_SECURITY_CHECKS", "1")
    assert Settings.from_env().security_checks is True
    monkeypatch.setenv("LIENTHONG_SECURITY_CHECKS", "0")
    assert Settings.from_env().security_checks is False
    assert build_parser().parse_args(["serve", "--security-checks"]).security_checks is True
    assert build_parser().parse_args(["serve"]).security_checks is False
