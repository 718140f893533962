"""Bundle rules beyond bdl-*: absolute fullUrls that agree with the resource, link relations
once, search results with ids and outcomes that are OperationOutcomes."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from server.fhir.profiling import validate
from server.fhir.profiling.rules import bundle_rules
from server.fhir.profiling.rules.rest_urls import is_absolute, rest_url

ROOT = Path(__file__).resolve().parents[4]


def bundle(btype: str, *entries: dict, links: list | None = None) -> dict:
    out: dict = {"resourceType": "Bundle", "type": btype, "entry": list(entries)}
    if links is not None:
        out["link"] = links
    return out


def patient(full_url: str | None, pid: str | None = "p1", **more: object) -> dict:
    resource = {"resourceType": "Patient", **({"id": pid} if pid is not None else {})}
    return {**({"fullUrl": full_url} if full_url is not None else {}), "resource": resource, **more}


def errors(b: dict) -> list[str]:
    return [i.diagnostics for i in bundle_rules.check(b) if i.severity == "error"]


def test_rest_urls_follow_the_r4_regex() -> None:
    assert rest_url("http://h.vn/fhir/Patient/p1") is not None and rest_url("http://h.vn/fhir/Patient/p1").base == "http://h.vn/fhir/"  # type: ignore[union-attr]
    assert rest_url("Observation/o.1/_history/2").version == "2"  # type: ignore[union-attr]
    assert rest_url("http://h.vn/fhir/NotAType/1") is None and rest_url("urn:uuid:1") is None
    assert is_absolute("urn:uuid:1") and is_absolute("https://h.vn/x") and not is_absolute("Patient/1") and not is_absolute("#x")


def test_a_relative_full_url_is_an_error() -> None:
    found = errors(bundle("collection", patient("Patient/p1")))
    assert len(found) == 1 and "Bundle.entry[0].fullUrl" in found[0] and "absolute URL" in found[0]
    assert errors(bundle("collection", patient("urn:uuid:9b1c0c5e-0000-4000-8000-000000000001"), patient("http://h.vn/fhir/Patient/p1"))) == []


def test_a_restful_full_url_must_name_the_resource() -> None:
    assert "Patient/p1" in errors(bundle("collection", patient("http://h.vn/fhir/Patient/p2")))[0]
    assert "Patient/p1" in errors(bundle("collection", patient("http://h.vn/fhir/Organization/p1")))[0]
    assert "has no id" in errors(bundle("collection", patient("http://h.vn/fhir/Patient/p1", pid=None)))[0]
    # a create may name itself with a RESTful fullUrl before it has an id
    assert errors(bundle("transaction", patient("http://h.vn/fhir/Patient/p1", pid=None, request={"method": "POST", "url": "Patient"}))) == []
    # not RESTful (a urn, or a base R4's regex does not allow): a name, no agreement to check
    assert errors(bundle("collection", patient("urn:uuid:p2"), patient("http://h_v.vn/Patient/p9"))) == []
    # version-specific: bdl-8's business, not repeated here
    assert errors(bundle("collection", patient("http://h.vn/fhir/Patient/p1/_history/1"))) == []


def test_link_relations_name_one_url() -> None:
    self_twice = [{"relation": "self", "url": "http://h.vn/a"}, {"relation": "self", "url": "http://h.vn/b"}]
    assert errors(bundle("collection", links=self_twice)) == ["Bundle.link[1].relation: the link relation 'self' occurs more than once; it names one URL"]
    paging = [{"relation": r, "url": "http://h.vn/x"} for r in ("self", "first", "next", "first")]
    assert [e.split(":")[0] for e in errors(bundle("searchset", links=paging))] == ["Bundle.link[3].relation"]
    assert errors(bundle("history", links=paging[:3])) == []
    # paging means nothing in a document: said, not refused
    issues = bundle_rules.check(bundle("document", links=[{"relation": "next", "url": "http://h.vn/x"}, {"relation": "next", "url": "http://h.vn/y"}]))
    assert [i.severity for i in issues] == ["warning", "warning"]


def test_search_results_have_ids_and_outcomes_are_operation_outcomes() -> None:
    match = patient("http://h.vn/fhir/Patient/p1", search={"mode": "match"})
    no_id = {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient"}, "search": {"mode": "include"}}
    outcome = {"fullUrl": "urn:uuid:2", "resource": {"resourceType": "OperationOutcome", "issue": []}, "search": {"mode": "outcome"}}
    wrong = {"fullUrl": "urn:uuid:3", "resource": {"resourceType": "Patient", "id": "x"}, "search": {"mode": "outcome"}}
    found = errors(bundle("searchset", match, no_id, outcome, wrong))
    assert len(found) == 2 and found[0].startswith("Bundle.entry[1].resource:") and "must have an id" in found[0]
    assert found[1].startswith("Bundle.entry[3].resource:") and "OperationOutcome, not Patient" in found[1]
    # a collection's entries need no ids
    assert errors(bundle("collection", {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient"}})) == []


def test_validate_reports_them() -> None:
    issues = validate(bundle("collection", patient("Patient/p1")))
    assert [i.expression for i in issues if i.severity == "error"] == [("Bundle.entry[0].fullUrl",)]


def test_the_projects_and_hl7s_bundles_pass() -> None:
    files = [*sorted((ROOT / "examples").glob("*/*bundle*.json")), ROOT / "server/fhir/structure/testdata/Bundle-bundle-transaction.json"]
    assert len(files) >= 4
    for f in files:
        assert bundle_rules.check(json.loads(f.read_text("utf-8"))) == [], f


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                           lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(["fullUrl", "resource", "resourceType", "id", "request", "method", "search", "mode", "relation", "url", "x"]), c, max_size=4),
                           max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["searchset", "history", "document", "collection", 3, None]), json_values, json_values)
def test_never_raises(btype: object, entries: object, links: object) -> None:
    assert isinstance(bundle_rules.check({"resourceType": "Bundle", "type": btype, "entry": entries, "link": links}), list)
