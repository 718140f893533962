"""Narrative hyperlinks: schemes a reader can follow, internal links that land somewhere."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from server.fhir.fhirxml import from_xml
from server.fhir.profiling import validate
from server.fhir.profiling.rules import narrative_links

HERE = Path(__file__).resolve().parents[1]


def text(body: str) -> dict:
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>'}


def patient(body: str, **more: object) -> dict:
    return {"resourceType": "Patient", "id": "p1", "text": text(body), **more}


def found(resource: dict, severity: str = "error") -> list[str]:
    return [i.diagnostics for i in narrative_links.check(resource) if i.severity == severity]


def test_urn_and_cid_links_cannot_be_followed() -> None:
    bad = found(patient('<p><a href="urn:uuid:7b0c">Bà Lan</a> <a href="cid:part1">scan</a></p>'))
    assert len(bad) == 2 and bad[0].startswith("Patient.text.div: the hyperlink 'urn:uuid:7b0c' ('Bà Lan') uses the scheme 'urn'")
    assert "'cid'" in bad[1]
    fine = '<a href="https://h.vn/a">a</a><a href="mailto:a@h.vn">m</a><a href="tel:+84901">t</a><a href="Patient/2">r</a><a href="">e</a>'
    assert narrative_links.check(patient(fine)) == []


def test_an_internal_link_must_land_on_an_id_or_a_name() -> None:
    targets = ('<p id="tom-tat">x</p><a name="ghi-chu"/><a href="#tom-tat">1</a><a href="#ghi-chu">2</a>'
               '<a href="#o1">3</a><a href="#ten">4</a><a href="#p1">5</a>')
    resource = patient(targets, contained=[{"resourceType": "Organization", "id": "o1"}], name=[{"id": "ten", "family": "Lê"}])
    assert narrative_links.check(resource) == []
    assert "does not resolve: nothing in the resource, its contained resources nor its narratives has the id (or <a name>) 'khong-co'" in found(patient('<a href="#khong-co">x</a>'))[0]
    # the same anchor twice: the link is ambiguous, said as a warning
    assert len(found(patient('<p id="a">1</p><p id="a">2</p><a href="#a">x</a>'), "warning")) == 1


def test_a_link_may_land_in_another_narrative_of_the_resource() -> None:
    composition = {"resourceType": "Composition", "text": text('<a href="#s1">see</a>'), "section": [{"text": text('<p id="s1">Dị ứng</p>')}]}
    assert narrative_links.check(composition) == []


def test_in_a_bundle_a_link_may_land_anywhere_in_it() -> None:
    header = {"resourceType": "MessageHeader", "text": text('<a href="#org-1">nơi nhận</a> <a href="#khong-co">?</a>')}
    org = {"resourceType": "Organization", "id": "org-1"}
    b = {"resourceType": "Bundle", "type": "message", "entry": [{"fullUrl": "urn:uuid:1", "resource": header}, {"fullUrl": "urn:uuid:2", "resource": org}]}
    issues = narrative_links.check(b)
    assert [(i.expression, i.severity) for i in issues] == [(("Bundle.entry[0].resource.text.div",), "error")]
    assert "'#khong-co'" in issues[0].diagnostics and "nor its Bundle" in issues[0].diagnostics


def test_validate_reports_them_and_malformed_narratives_do_not_break_it() -> None:
    assert [i.expression for i in validate(patient('<a href="urn:oid:1.2">x</a>')) if i.severity == "error"] == [("Patient.text.div",)]
    assert narrative_links.check({"resourceType": "Patient", "text": {"div": '<div><a href="urn:x">'}}) == []


def test_the_hl7_examples_pass() -> None:
    resources = [json.loads(p.read_text("utf-8")) for p in sorted((HERE.parent / "structure" / "testdata").glob("*.json"))]
    resources += [from_xml(p.read_bytes()) for p in sorted((HERE.parent / "xml_testdata").glob("*.xml"))]
    assert len(resources) >= 28 and sum('href' in json.dumps(r) for r in resources) >= 1
    for r in resources:
        assert narrative_links.check(r) == [], r.get("id")


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.sampled_from(['<div xmlns="http://www.w3.org/1999/xhtml"><a href="#x">x</a></div>', "<a href='urn:", "href"]),
                           lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(["resourceType", "id", "text", "div", "contained", "entry", "resource", "name", "x"]), c, max_size=4),
                           max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["Bundle", "Patient", "Parameters"]), st.dictionaries(st.sampled_from(["id", "text", "contained", "entry", "parameter", "x"]), json_values, max_size=4))
def test_never_raises(rtype: str, rest: dict) -> None:
    assert isinstance(narrative_links.check({**rest, "resourceType": rtype}), list)
