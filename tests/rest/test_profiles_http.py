"""Profiles over HTTP: read-only conformance resources, terminology, $validate, mandatory profiles."""

from __future__ import annotations

import json
from typing import AsyncIterator

import httpx
import pytest

import profiles
from server.app import create_app
from server.config import Settings

from .conftest import SMALL_LIMITS, client_for, token_for
from .helpers import JSON, issues

pytestmark = pytest.mark.anyio

PATIENT = profiles.PROFILE["lienthong-patient"]
NARRATIVE = {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">Nguyễn Văn An</div>'}
CONFORMANCE = ("StructureDefinition", "CodeSystem", "ValueSet", "NamingSystem")


def vn_patient(cccd: str = "001085012345", **extra) -> dict:
    return {
        "resourceType": "Patient",
        "text": NARRATIVE,
        "identifier": [{"system": profiles.SID["cccd"], "value": cccd}],
        "name": [{"text": "Nguyễn Văn An", "family": "Nguyễn", "given": ["Văn", "An"]}],
        "gender": "male",
        "birthDate": "1985-07-14",
        **extra,
    }


def diagnostics(body: dict, severity: str | None = None) -> list[str]:
    return [i["diagnostics"] for i in issues(body) if severity is None or i["severity"] == severity]


# ------------------------------------------------------------------ conformance resources


async def test_read_each_conformance_type(client) -> None:
    for name, res in profiles.resources().items():
        if res.get("resourceType") in CONFORMANCE:
            r = await client.get(f"{res['resourceType']}/{res['id']}")
            assert r.status_code == 200, name
            assert r.json() == res


async def test_read_unknown_is_404(client) -> None:
    r = await client.get("StructureDefinition/nope")
    assert r.status_code == 404 and issues(r.json())[0]["code"] == "not-found"


async def test_search_by_url_id_name_status(client) -> None:
    r = (await client.get("StructureDefinition", params={"url": PATIENT})).json()
    assert r["type"] == "searchset" and r["total"] == 1 and r["entry"][0]["resource"]["id"] == "lienthong-patient"
    assert r["entry"][0]["fullUrl"].endswith("/StructureDefinition/lienthong-patient")
    r = (await client.get("StructureDefinition", params={"url": PATIENT + "|0.0.0"})).json()
    assert r["total"] == 0
    r = (await client.get("ValueSet", params={"_id": "vs-t54-gender,vs-t54-ethnicity"})).json()
    assert {e["resource"]["id"] for e in r["entry"]} == {"vs-t54-gender", "vs-t54-ethnicity"}
    r = (await client.get("StructureDefinition", params={"name": "lienthong", "status": "active"})).json()
    assert r["total"] == len([u for u in profiles.PROFILE if u.startswith("lienthong-")]) >= 7
    r = (await client.get("NamingSystem", params={"url": profiles.SID["cccd"]})).json()
    assert [e["resource"]["id"] for e in r["entry"]] == ["cccd", "national-id"]  # ours (with its aliases) and VN Core's own
    everything = (await client.get("CodeSystem")).json()
    assert everything["total"] == _served("CodeSystem") == len(profiles.CS) + 10  # VN Core's ten


async def test_search_by_post_form(client) -> None:
    # search-type includes POST _search, as for the stored types (the OpenAPI description lists it)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    r = await client.post("StructureDefinition/_search", content=f"url={PATIENT}", headers=form)
    assert r.status_code == 200 and r.json()["total"] == 1 and r.json()["entry"][0]["resource"]["id"] == "lienthong-patient"
    r = await client.post("ValueSet/_search?_id=vs-t54-gender", content=b"", headers=form)
    assert [e["resource"]["id"] for e in r.json()["entry"]] == ["vs-t54-gender"]
    r = await client.post("ValueSet/_search", content=b"{}", headers={"Content-Type": "application/json"})
    assert r.status_code == 415


def _served(type_: str) -> int:
    return sum(1 for r in profiles.served() if r["resourceType"] == type_)


async def test_unknown_search_parameter_is_reported_or_refused(client) -> None:
    r = (await client.get("ValueSet", params={"publisher": "x"}, headers={"Prefer": "handling=lenient"})).json()
    assert r["entry"][-1]["search"]["mode"] == "outcome" and r["total"] == _served("ValueSet")
    r = await client.get("ValueSet", params={"publisher": "x"})  # strict is the default
    assert r.status_code == 400


@pytest.mark.parametrize("type_", CONFORMANCE)
async def test_writes_are_405(client, type_: str) -> None:
    body = json.dumps({"resourceType": type_, "id": "x"})
    for method, path in (("POST", type_), ("PUT", f"{type_}/x"), ("DELETE", f"{type_}/x"), ("PUT", f"{type_}?url=x"), ("DELETE", type_)):
        r = await client.request(method, path, content=body if method != "DELETE" else None, headers=JSON)
        assert r.status_code == 405, (method, path)
        assert issues(r.json())[0]["code"] == "not-supported"


async def test_capability_statement_lists_them_read_only(client) -> None:
    rest = (await client.get("metadata")).json()["rest"][0]
    by_type = {r["type"]: r for r in rest["resource"]}
    for type_ in CONFORMANCE:
        assert {i["code"] for i in by_type[type_]["interaction"]} == {"read", "search-type"}
        assert {p["name"] for p in by_type[type_]["searchParam"]} >= {"url", "_id", "name", "status"}
    assert [o["name"] for o in by_type["CodeSystem"]["operation"]] == ["lookup"]
    assert [o["name"] for o in by_type["ValueSet"]["operation"]] == ["validate-code"]
    assert "validate" in {o["name"] for o in by_type["Patient"]["operation"]}
    assert "validate" in {o["name"] for o in by_type["Condition"]["operation"]}


# ------------------------------------------------------------------------- terminology

GENDER_CS, GENDER_VS = profiles.CS["t54-gender"], profiles.VS["vs-t54-gender"]


def first_code() -> str:
    cs = next(r for r in profiles.resources().values() if r.get("url") == GENDER_CS)
    return cs["concept"][0]["code"]


def param(body: dict, name: str):
    found = [p for p in body["parameter"] if p["name"] == name]
    return found[0] if found else None


async def test_lookup_get_and_post(client) -> None:
    code = first_code()
    r = await client.get("CodeSystem/$lookup", params={"system": GENDER_CS, "code": code})
    assert r.status_code == 200 and r.json()["resourceType"] == "Parameters" and param(r.json(), "display")
    post = {"resourceType": "Parameters", "parameter": [{"name": "coding", "valueCoding": {"system": GENDER_CS, "code": code}}]}
    r2 = await client.post("CodeSystem/$lookup", content=json.dumps(post), headers=JSON)
    assert r2.status_code == 200 and r2.json() == r.json()


async def test_lookup_errors(client) -> None:
    assert (await client.get("CodeSystem/$lookup", params={"system": GENDER_CS})).status_code == 400
    assert (await client.get("CodeSystem/$lookup", params={"system": "urn:nope", "code": "1"})).status_code == 404
    bad = {"resourceType": "Patient"}
    assert (await client.post("CodeSystem/$lookup", content=json.dumps(bad), headers=JSON)).status_code == 400


async def test_validate_code_type_and_instance(client) -> None:
    code = first_code()
    r = (await client.get("ValueSet/$validate-code", params={"url": GENDER_VS, "system": GENDER_CS, "code": code})).json()
    assert param(r, "result")["valueBoolean"] is True
    r = (await client.get("ValueSet/vs-t54-gender/$validate-code", params={"system": GENDER_CS, "code": "no-such-code"})).json()
    assert param(r, "result")["valueBoolean"] is False and param(r, "message")
    post = {"resourceType": "Parameters", "parameter": [{"name": "codeableConcept", "valueCodeableConcept": {"coding": [{"system": GENDER_CS, "code": code}]}}]}
    r = (await client.post("ValueSet/vs-t54-gender/$validate-code", content=json.dumps(post), headers=JSON)).json()
    assert param(r, "result")["valueBoolean"] is True
    assert (await client.get("ValueSet/nope/$validate-code", params={"code": "1"})).status_code == 404
    assert (await client.get("ValueSet/$validate-code", params={"url": GENDER_VS})).status_code == 400


# --------------------------------------------------------------------------- $validate


async def test_validate_clean_resource_says_no_issues(client) -> None:
    r = await client.post("Patient/$validate", content=json.dumps(vn_patient()), headers=JSON)
    assert r.status_code == 200
    [issue] = issues(r.json())
    assert issue["severity"] == "information" and "No issues" in issue["diagnostics"]


async def test_validate_reports_base_errors_in_a_200(client) -> None:
    r = await client.post("Patient/$validate", content=json.dumps({"resourceType": "Patient", "gender": "nope", "birthDate": "x"}), headers=JSON)
    assert r.status_code == 200
    assert {i["expression"][0] for i in issues(r.json()) if i["severity"] == "error"} >= {"Patient.gender", "Patient.birthDate"}


async def test_validate_against_claimed_and_requested_profiles(client) -> None:
    bad = vn_patient(cccd="123")
    del bad["gender"]
    r = await client.post("Patient/$validate", params={"profile": PATIENT}, content=json.dumps(bad), headers=JSON)
    errors = diagnostics(r.json(), "error")
    assert any("Patient.gender: occurs 0 time(s)" in d and PATIENT in d for d in errors), errors
    assert any("Patient.identifier[0]" in d and "invariant vn-pat-1" in d for d in errors), errors
    claimed = dict(bad, meta={"profile": [PATIENT]})
    r2 = await client.post("Patient/$validate", content=json.dumps(claimed), headers=JSON)
    assert diagnostics(r2.json(), "error") == errors


async def test_validate_parameters_body(client) -> None:
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "resource", "resource": vn_patient(cccd="1")},
        {"name": "mode", "valueCode": "create"},
        {"name": "profile", "valueUri": PATIENT},
    ]}
    r = await client.post("Patient/$validate", content=json.dumps(body), headers=JSON)
    assert r.status_code == 200 and any("vn-pat-1" in d for d in diagnostics(r.json(), "error"))


async def test_validate_unknown_profiles(client) -> None:
    r = await client.post("Patient/$validate", params={"profile": "urn:nope"}, content=json.dumps(vn_patient()), headers=JSON)
    assert any("urn:nope is not known" in d for d in diagnostics(r.json(), "error"))
    claimed = vn_patient(meta={"profile": ["urn:nope"]})
    r = await client.post("Patient/$validate", content=json.dumps(claimed), headers=JSON)
    assert any("urn:nope is not known" in d for d in diagnostics(r.json(), "warning"))
    assert diagnostics(r.json(), "error") == []


@pytest.mark.parametrize(("path", "params", "body", "status"), [
    ("Patient/$validate", {}, b"{not json", 400),
    ("Patient/$validate", {}, json.dumps({"resourceType": "Observation"}).encode(), 400),
    ("Patient/$validate", {"mode": "explode"}, json.dumps({"resourceType": "Patient"}).encode(), 400),
    ("Patient/$validate", {}, b"", 400),
    ("Patient/abc/$validate", {}, json.dumps({"resourceType": "Patient", "id": "xyz"}).encode(), 400),
    ("Patient/$validate", {"mode": "update"}, json.dumps({"resourceType": "Patient"}).encode(), 400),
    ("Patient/$validate", {"mode": "delete"}, b"", 400),
    ("Nope/$validate", {}, json.dumps({"resourceType": "Nope"}).encode(), 404),
    ("Patient/$validate", {}, json.dumps({"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": 5}]}).encode(), 400),
])
async def test_validate_bad_requests(client, path: str, params: dict, body: bytes, status: int) -> None:
    r = await client.post(path, params=params, content=body, headers=JSON)
    assert r.status_code == status, r.text
    assert r.json()["resourceType"] == "OperationOutcome"


async def test_validate_modes_update_and_delete(client) -> None:
    created = (await client.post("Patient", content=json.dumps(vn_patient()), headers=JSON)).json()
    pid = created["id"]
    r = await client.post(f"Patient/{pid}/$validate", params={"mode": "update"}, content=json.dumps(dict(vn_patient(), id=pid)), headers=JSON)
    assert r.status_code == 200 and issues(r.json())[0]["severity"] == "information"
    r = await client.post(f"Patient/{pid}/$validate", params={"mode": "delete"})
    assert r.status_code == 200 and issues(r.json())[0]["severity"] == "information"
    assert (await client.post("Patient/not-there/$validate", params={"mode": "delete"})).status_code == 404


# -------------------------------------------------------------------- mandatory profiles


async def _client_with(store, **setting: bool) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    """A client of an app with the test limits and ``setting`` on."""
    settings = Settings(**{**{f: getattr(SMALL_LIMITS, f) for f in ("max_request_bytes", "max_json_depth", "default_count", "max_count", "max_bundle_entries")}, **setting})
    app = create_app(settings, store)
    async with client_for(app, await token_for(app)) as c:
        yield c
    await app.state.audit.stop()


@pytest.fixture
async def strict_client(store) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    async for c in _client_with(store, require_profiles=True, integrity_on_write=False):  # profiles alone: Patient/p need not exist
        yield c


async def test_mandatory_off_by_default(client) -> None:
    r = await client.post("Patient", content=json.dumps({"resourceType": "Patient"}), headers=JSON)
    assert r.status_code == 201


async def test_mandatory_conformant_patient_is_created(strict_client) -> None:
    r = await strict_client.post("Patient", content=json.dumps(vn_patient()), headers=JSON)
    assert r.status_code == 201, r.text


async def test_mandatory_non_conformant_is_422_with_every_problem(strict_client) -> None:
    bad = vn_patient(cccd="12")
    del bad["name"], bad["gender"]
    r = await strict_client.post("Patient", content=json.dumps(bad), headers=JSON)
    assert r.status_code == 422
    errors = diagnostics(r.json(), "error")
    assert len(errors) == 3 and all(PATIENT in d for d in errors)
    assert {i["expression"][0] for i in issues(r.json())} == {"Patient.name", "Patient.gender", "Patient.identifier[0]"}
    assert (await strict_client.get("Patient")).json().get("total", 0) == 0


async def test_mandatory_update_and_conditional_update(strict_client) -> None:
    r = await strict_client.put("Patient/p1", content=json.dumps({"resourceType": "Patient", "id": "p1"}), headers=JSON)
    assert r.status_code == 422
    r = await strict_client.put("Patient", params={"identifier": f"{profiles.SID['cccd']}|001085012345"}, content=json.dumps({"resourceType": "Patient", "gender": "male"}), headers=JSON)
    assert r.status_code == 422 and any("Patient.name" in d for d in diagnostics(r.json()))
    r = await strict_client.put("Patient/p1", content=json.dumps(dict(vn_patient(), id="p1")), headers=JSON)
    assert r.status_code == 201


async def test_mandatory_observation_without_a_matching_profile_is_refused(strict_client) -> None:
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "Hb"}, "subject": {"reference": "Patient/p"}}
    r = await strict_client.post("Observation", content=json.dumps(obs), headers=JSON)
    assert r.status_code == 422 and "category matches none" in diagnostics(r.json())[0]
    # other types are not concerned
    cond = {"resourceType": "Condition", "subject": {"reference": "Patient/p"}, "code": {"text": "x"}}
    assert (await strict_client.post("Condition", content=json.dumps(cond), headers=JSON)).status_code == 201


async def test_mandatory_transaction_is_rolled_back(strict_client) -> None:
    good = vn_patient(cccd="001085099999")
    bad = {"resourceType": "Patient", "gender": "female"}
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:11111111-1111-4111-8111-111111111111", "resource": good, "request": {"method": "POST", "url": "Patient"}},
        {"fullUrl": "urn:uuid:22222222-2222-4222-8222-222222222222", "resource": bad, "request": {"method": "POST", "url": "Patient"}},
    ]}
    r = await strict_client.post("", content=json.dumps(bundle), headers=JSON)
    assert r.status_code == 422
    assert any("Patient.name" in d and PATIENT in d for d in diagnostics(r.json()))
    found = (await strict_client.get("Patient", params={"identifier": f"{profiles.SID['cccd']}|001085099999"})).json()
    assert found.get("total", len(found.get("entry", []))) == 0 and not [e for e in found.get("entry", []) if e["search"]["mode"] == "match"]


async def test_mandatory_batch_refuses_only_the_bad_entry(strict_client) -> None:
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": vn_patient(), "request": {"method": "POST", "url": "Patient"}},
        {"resource": {"resourceType": "Patient"}, "request": {"method": "POST", "url": "Patient"}},
    ]}
    r = (await strict_client.post("", content=json.dumps(bundle), headers=JSON)).json()
    assert [e["response"]["status"][:3] for e in r["entry"]] == ["201", "422"]


async def test_validate_under_mandatory_shows_what_a_write_would_refuse(strict_client) -> None:
    r = await strict_client.post("Patient/$validate", content=json.dumps({"resourceType": "Patient", "gender": "male"}), headers=JSON)
    assert r.status_code == 200 and any("Patient.name" in d and PATIENT in d for d in diagnostics(r.json(), "error"))


# ------------------------------------------------------------------------- no 5xx, ever

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=10),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(["resourceType", "parameter", "name", "resource", "valueCode", "valueUri", "valueCoding", "valueCodeableConcept", "coding", "system", "code", "id", "meta", "profile", "identifier", "x"]), c, max_size=4),
    max_leaves=15,
)
_bodies = st.one_of(_json, st.builds(lambda t, rest: {**rest, "resourceType": t}, st.sampled_from(["Patient", "Parameters", "Observation", "Nope"]), st.dictionaries(st.sampled_from(["parameter", "identifier", "meta", "id", "name", "gender"]), _json, max_size=3)))
_paths = st.sampled_from(["Patient/$validate", "Patient/p1/$validate", "Nope/$validate", "CodeSystem/$lookup", "ValueSet/$validate-code", "ValueSet/vs-t54-gender/$validate-code", "ValueSet/nope/$validate-code", "StructureDefinition", "StructureDefinition/lienthong-patient", "NamingSystem"])
_query = st.dictionaries(st.sampled_from(["mode", "profile", "system", "code", "url", "coding", "_id", "name", "version", "displayLanguage"]), st.text(max_size=12), max_size=3)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]), path=_paths, query=_query, body=_bodies)
async def test_no_5xx_on_profile_endpoints(client, method: str, path: str, query: dict, body: object) -> None:
    content = json.dumps(body) if method in ("POST", "PUT") else None
    r = await client.request(method, path, params=query, content=content, headers=JSON)
    assert r.status_code < 500, (r.status_code, r.text)


async def test_validate_a_conformance_resource(client) -> None:
    sd = dict(profiles.resources()["StructureDefinition-lienthong-patient.json"])
    r = await client.post("StructureDefinition/$validate", content=json.dumps(sd), headers=JSON)
    assert r.status_code == 200 and diagnostics(r.json(), "error") == []


async def test_vn_core_is_served_read_only_and_its_profiles_validate(client) -> None:  # type: ignore[no-untyped-def]
    moh = "http://fhir.ehealth.gov.vn/core/StructureDefinition/vn-core-patient"
    r = await client.get("StructureDefinition/vn-core-patient")
    assert r.status_code == 200 and r.json()["url"] == moh
    assert (await client.get("StructureDefinition", params={"url": moh})).json()["total"] == 1
    assert (await client.put("StructureDefinition/vn-core-patient", json=r.json())).status_code == 405
    patient = {"resourceType": "Patient", "identifier": [{"system": "http://fhir.ehealth.gov.vn/core/sid/national_id", "value": "001085012345"}],
               "name": [{"family": "Lê", "given": ["An"]}], "gender": "male", "birthDate": "1990-01-01"}
    out = (await client.post("Patient/$validate", params={"profile": moh}, json=patient)).json()
    errors = [i for i in out["issue"] if i["severity"] == "error"]
    assert [i["expression"] for i in errors] == [["Patient.name[0].text"]]  # VN Core asks for the name as text
    patient["name"][0]["text"] = "Lê An"
    out = (await client.post("Patient/$validate", params={"profile": moh}, json=patient)).json()
    assert not [i for i in out["issue"] if i["severity"] == "error"], out
    said = [i["diagnostics"] for i in out["issue"] if i["severity"] == "information"]
    assert any("Patient-uv-ips" in d and "not checked" in d for d in said)  # its IPS base is not shipped: said, not hidden
    lab = {"resourceType": "Observation", "status": "final", "code": {"text": "Glucose"}, "subject": {"reference": "Patient/x"}}
    out = (await client.post("Observation/$validate", params={"profile": "http://fhir.ehealth.gov.vn/core/StructureDefinition/vn-core-observation-lab-code"}, json=lab)).json()
    profiles_named = " ".join(i["diagnostics"] for i in out["issue"])
    assert "vn-core-obervation-result-base" in profiles_named  # the base profile in the package is checked too


async def test_parameters_whose_parameter_is_not_a_list_is_400(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("Patient/$validate", json={"resourceType": "Parameters", "parameter": True})
    assert r.status_code == 400 and "Parameters.parameter" in r.text


# -------------------------------------------------------------------- security checks


@pytest.fixture
async def secure_client(store) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    async for c in _client_with(store, security_checks=True):
        yield c


async def test_security_checks_refuse_html_in_strings_on_writes_and_in_validate(secure_client, client) -> None:  # type: ignore[no-untyped-def]
    xss = vn_patient(name=[{"text": "An <img src=x onerror=alert(1)>"}])
    r = await secure_client.post("Patient", content=json.dumps(xss), headers=JSON)
    assert r.status_code == 422 and [i["expression"] for i in issues(r.json())] == [["Patient.name[0].text"]]
    r = await secure_client.post("Patient/$validate", content=json.dumps(xss), headers=JSON)
    assert r.status_code == 200 and any(d.startswith("Patient.name[0].text: the string contains text that looks like an embedded HTML tag") for d in diagnostics(r.json(), "error"))
    assert (await secure_client.post("Patient", content=json.dumps(vn_patient()), headers=JSON)).status_code == 201
    assert (await client.post("Patient", content=json.dumps(xss), headers=JSON)).status_code == 201  # off by default
