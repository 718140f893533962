"""References inside Bundles: R4's resolution rules, target types, and what documents and
messages need (Composition and MessageHeader references resolve, every entry reachable)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from server.fhir.profiling import validate
from server.fhir.profiling.rules import bundle_references
from server.fhir.profiling.rules.bundle_references import Entries

ROOT = Path(__file__).resolve().parents[4]
BASE = "http://bv.vn/fhir/"


def entry(full_url: str | None, rtype: str, rid: str | None = None, **fields: object) -> dict:
    resource = {"resourceType": rtype, **({"id": rid} if rid else {}), **fields}
    return {**({"fullUrl": full_url} if full_url else {}), "resource": resource}


def bundle(btype: str, *entries: dict, **more: object) -> dict:
    return {"resourceType": "Bundle", "type": btype, "entry": list(entries), **more}


def ref(value: str, **more: object) -> dict:
    return {"reference": value, **more}


def issues(b: dict, severity: str = "error") -> list[str]:
    return [i.diagnostics for i in bundle_references.check(b) if i.severity == severity]


def document(*others: dict, **composition: object) -> dict:
    fields = {"status": "final", "type": {"text": "Giấy chuyển tuyến"}, "date": "2026-01-02", "title": "Chuyển tuyến", **composition}
    return bundle("document", entry(f"{BASE}Composition/c1", "Composition", "c1", **fields), *others,
                  identifier={"system": "urn:ietf:rfc:3986", "value": "urn:uuid:0d5c"}, timestamp="2026-01-02T08:00:00+07:00")


PATIENT = entry(f"{BASE}Patient/p1", "Patient", "p1")
DOCTOR = entry(f"{BASE}Practitioner/d1", "Practitioner", "d1")


def test_resolution_follows_r4() -> None:
    e = Entries([PATIENT, entry("urn:uuid:1c5c", "Observation"),
                 entry(f"{BASE}Observation/o1", "Observation", "o1", meta={"versionId": "1"}),
                 entry(f"{BASE}Observation/o1", "Observation", "o1", meta={"versionId": "2"})])
    source = f"{BASE}Encounter/e1"
    assert e.resolve("Patient/p1", source) == [0]  # against the RESTful base of the referring entry
    assert e.resolve(f"{BASE}Patient/p1", None) == [0] and e.resolve("urn:uuid:1c5c", source) == [1]
    assert e.resolve("Observation/o1", source) == [2, 3] and e.resolve("Observation/o1/_history/2", source) == [3]
    assert e.resolve("Observation/o1/_history/3", source) == [] and e.resolve("Patient/p9", source) == []
    assert e.resolve("Patient/p1", "urn:uuid:77") is None  # no RESTful base: no defined meaning
    assert e.resolve("Patient/p1", "http://other.vn/fhir/Encounter/e1") == []


def test_an_ambiguous_reference_is_an_error_except_in_history() -> None:
    versions = [entry(f"{BASE}Patient/p1", "Patient", "p1", meta={"versionId": v}) for v in ("1", "2")]
    obs = entry("urn:uuid:o", "Observation", status="final", code={"text": "x"}, subject=ref(f"{BASE}Patient/p1"))
    found = issues(bundle("collection", obs, *versions))
    assert len(found) == 1 and found[0].startswith("Bundle.entry[0].resource.subject: the reference") and "matches 2 entries" in found[0]
    assert issues(bundle("history", obs, *versions)) == []


def test_a_resolved_target_has_the_referenced_type() -> None:
    org_at_practitioner_url = entry(f"{BASE}Practitioner/d1", "Organization", "d1")
    obs = entry(f"{BASE}Observation/o1", "Observation", "o1", performer=[ref("Practitioner/d1"), ref("urn:uuid:org", type="Practitioner")])
    found = issues(bundle("collection", obs, org_at_practitioner_url, entry("urn:uuid:org", "Organization")))
    assert len(found) == 2 and "which is an Organization, not a Practitioner" in found[0] and found[1].startswith("Bundle.entry[0].resource.performer[1]")


def test_a_relative_reference_beside_the_urn_it_seems_to_mean_must_match_its_type() -> None:
    patient = entry("urn:uuid:54fc", "Patient", generalPractitioner=[ref("Practitioner/5d95")])
    found = issues(bundle("collection", patient, entry("urn:uuid:5d95", "Organization")))
    assert len(found) == 1 and "no meaning in this Bundle" in found[0] and "'urn:uuid:5d95', is an Organization, not a Practitioner" in found[0]
    assert issues(bundle("collection", patient, entry("urn:uuid:5d95", "Practitioner"))) == []
    assert issues(bundle("collection", patient)) == []  # a reference to a server, outside the Bundle


def test_a_documents_composition_references_must_resolve() -> None:
    good = document(PATIENT, DOCTOR, subject=ref("Patient/p1"), author=[ref(f"{BASE}Practitioner/d1"), {"display": "BS. An"}])
    assert bundle_references.check(good) == []
    bad = document(PATIENT, subject=ref("Patient/p1"), author=[ref("Practitioner/d9")], section=[{"entry": [ref("urn:uuid:none")], "section": [{"focus": ref("Patient/p1/_history/4")}]}])
    found = issues(bad)
    assert [f.split(":")[0] for f in found] == ["Bundle.entry[0].resource.author[0]", "Bundle.entry[0].resource.section[0].entry[0]", "Bundle.entry[0].resource.section[0].section[0].focus"]
    assert all("resolves to no entry" in f for f in found)
    urn_doc = document(PATIENT, subject=ref("Patient/p1"))
    urn_doc["entry"][0]["fullUrl"] = "urn:uuid:c1"
    assert "is not a RESTful URL to resolve it against" in issues(urn_doc)[0]


def test_every_entry_of_a_document_is_reachable_from_the_composition() -> None:
    obs = entry(f"{BASE}Observation/o1", "Observation", "o1", status="final", code={"text": "M"}, subject=ref("Patient/p1"))
    provenance = entry(f"{BASE}Provenance/v1", "Provenance", "v1", target=[ref("Composition/c1")])
    orphan = entry(f"{BASE}Organization/x", "Organization", "x")
    doc = document(PATIENT, obs, provenance, orphan, subject=ref("Patient/p1"))
    assert issues(doc) == [(f"Bundle.entry[4]: the entry '{BASE}Organization/x' is not connected to the Composition by references, forwards or backwards; "
                            "a document holds only what its Composition references, directly or indirectly (R4 documents)")]
    # the Observation only points into the document; the Provenance is expected to
    assert [w.split(":")[0] for w in issues(doc, "warning")] == ["Bundle.entry[2]"]


def test_a_documents_relative_stylesheet_names_an_entry() -> None:
    css = entry(f"{BASE}Binary/css", "Binary", "css", contentType="text/css")
    links = [{"relation": "stylesheet", "url": "Binary/css"}, {"relation": "stylesheet", "url": "Binary/khac"}, {"relation": "stylesheet", "url": "https://hl7.org/fhir/fhir.css"}]
    doc = document(css)
    doc["link"] = links
    found = issues(doc)
    assert found == ["Bundle.link[1].url: the stylesheet 'Binary/khac' is a relative URL, but no entry of the document is Binary/khac"]  # the Binary is reached by its link


def test_a_messages_focus_resolves() -> None:
    header = entry("urn:uuid:h", "MessageHeader", eventCoding={"system": "urn:x", "code": "y"}, source={"endpoint": "http://bv.vn"}, focus=[ref("urn:uuid:p"), ref("urn:uuid:q")])
    found = issues(bundle("message", header, entry("urn:uuid:p", "Patient")))
    assert len(found) == 1 and found[0].startswith("Bundle.entry[0].resource.focus[1]: the reference 'urn:uuid:q' resolves to no entry")


def test_a_narrative_link_lands_on_an_id_of_its_target() -> None:
    section_text = {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p id="di-ung">x</p><p id="hai">a</p><p id="hai">b</p></div>'}
    comp = {"section": [{"text": section_text, "entry": [ref("urn:uuid:a1"), ref("urn:uuid:a2"), ref("urn:uuid:a3")]}]}

    def allergy(n: str, target: str) -> dict:
        return entry(f"urn:uuid:{n}", "AllergyIntolerance", patient=ref("urn:uuid:x"),
                     extension=[{"url": "http://hl7.org/fhir/StructureDefinition/narrativeLink", "valueUrl": f"{BASE}Composition/c1#{target}"}])

    doc = document(allergy("a1", "di-ung"), allergy("a2", "khong-co"), allergy("a3", "hai"), **comp)
    own = {"url": "http://hl7.org/fhir/StructureDefinition/narrativeLink", "valueUrl": "#tom-tat"}  # into the entry itself
    doc["entry"][1]["resource"]["extension"].append(own)
    assert [e.split(":")[0] for e in issues(doc)] == ["Bundle.entry[1].resource.extension[1].valueUrl", "Bundle.entry[2].resource.extension[0].valueUrl"]
    assert "does not land" in issues(doc)[0] and len(issues(doc, "warning")) == 1


def test_validate_reports_them() -> None:
    doc = document(PATIENT, subject=ref("Patient/p2"))
    assert ("Bundle.entry[0].resource.subject",) in [i.expression for i in validate(doc) if i.severity == "error"]


def test_the_projects_and_hl7s_bundles_pass() -> None:
    files = [*sorted((ROOT / "examples").glob("*/*bundle*.json")), ROOT / "server/fhir/structure/testdata/Bundle-bundle-transaction.json"]
    for f in files:
        assert bundle_references.check(json.loads(f.read_text("utf-8"))) == [], f


def test_a_large_document_is_checked_in_linear_time() -> None:
    n = 10_000
    patients = [entry(f"{BASE}Patient/p{i}", "Patient", f"p{i}", generalPractitioner=[ref("Practitioner/d1")]) for i in range(n)]
    doc = document(DOCTOR, *patients, author=[ref("Practitioner/d1")], section=[{"entry": [ref(f"Patient/p{i}") for i in range(n)]}])
    start = time.perf_counter()
    assert bundle_references.check(doc) == []
    assert time.perf_counter() - start < 5  # about 0.3 s; a quadratic pass would take minutes


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.sampled_from(["Patient/p1", "urn:uuid:1", f"{BASE}Patient/p1", "#x", "Patient/p1/_history/1", "Composition", "stylesheet", ""]),
                           lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(["fullUrl", "resource", "resourceType", "id", "subject", "reference", "section", "entry", "focus", "link", "relation", "url", "meta", "versionId", "contained", "type"]), c, max_size=4),
                           max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["document", "message", "collection", "history", None]), json_values, json_values)
def test_never_raises(btype: object, entries: object, links: object) -> None:
    composition = {"fullUrl": f"{BASE}Composition/c1", "resource": {"resourceType": "Composition", "id": "c1", "subject": {"reference": "Patient/p1"}}}
    for first in ([composition] if btype == "document" else [], []):
        tail = entries if isinstance(entries, list) else [entries]
        assert isinstance(bundle_references.check({"resourceType": "Bundle", "type": btype, "entry": first + tail, "link": links}), list)


def test_malformed_nested_resources_are_skipped() -> None:
    odd = {"resourceType": "Patient", "contained": [{"resourceType": ["x"]}, {"resourceType": {"a": 1}}, "x"], "generalPractitioner": "Practitioner/1"}
    assert bundle_references.check(bundle("collection", {"fullUrl": "urn:uuid:1", "resource": odd}, {"resource": []}, 7)) == []
