"""Access control over REST: 401/403, patient compartments, facility-limited vendors, no leaks.

The world: two patients (A, B) with resources of many types that refer to them, and shared
resources (an Organization, a Practitioner) in nobody's compartment. The owner of each
resource is known when it is made, so "may a token for A see this?" is answered here
independently of the server's rules.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.auth.keys import new_key
from server.auth.tokens import Principal, claims_for

from .conftest import client_for, token_for
from .helpers import JSON, issues

pytestmark = pytest.mark.anyio

A, B = "pat-a", "pat-b"


def _world() -> list[tuple[dict[str, Any], str | None]]:
    """(resource, owner patient or None) for every resource of the world."""
    out: list[tuple[dict[str, Any], str | None]] = [
        ({"resourceType": "Organization", "id": "org-1", "name": "Bệnh viện Tỉnh", "identifier": [{"system": "urn:test:org", "value": "92001"}]}, None),
        ({"resourceType": "Practitioner", "id": "doc-1", "name": [{"family": "Trần", "given": ["Bình"]}]}, None),
    ]
    for pid, family in ((A, "Nguyễn"), (B, "Lê")):
        ref = {"reference": f"Patient/{pid}"}
        out += [
            ({"resourceType": "Patient", "id": pid, "name": [{"family": family, "given": ["Văn"]}], "gender": "male",
              "managingOrganization": {"reference": "Organization/org-1"}, "generalPractitioner": [{"reference": "Practitioner/doc-1"}],
              "identifier": [{"system": "urn:test:cccd", "value": f"0010{pid}"}]}, pid),
            ({"resourceType": "Encounter", "id": f"enc-{pid}", "status": "finished", "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
              "subject": ref, "serviceProvider": {"reference": "Organization/org-1"}, "participant": [{"individual": {"reference": "Practitioner/doc-1"}}]}, pid),
            ({"resourceType": "Observation", "id": f"obs-{pid}-lab", "status": "final", "subject": ref, "encounter": {"reference": f"Encounter/enc-{pid}"},
              "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}],
              "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7"}]}, "performer": [{"reference": "Practitioner/doc-1"}]}, pid),
            ({"resourceType": "Observation", "id": f"obs-{pid}-vital", "status": "final", "subject": ref,
              "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
              "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]}}, pid),
            ({"resourceType": "Condition", "id": f"cond-{pid}", "subject": ref, "code": {"text": "Tăng huyết áp"}, "encounter": {"reference": f"Encounter/enc-{pid}"}}, pid),
            ({"resourceType": "Coverage", "id": f"cov-{pid}", "status": "active", "beneficiary": ref, "payor": [{"reference": "Organization/org-1"}]}, pid),
            ({"resourceType": "AllergyIntolerance", "id": f"alg-{pid}", "patient": ref, "code": {"text": "Penicillin"}}, pid),
            ({"resourceType": "DocumentReference", "id": f"doc-{pid}", "status": "current", "subject": ref,
              "content": [{"attachment": {"contentType": "text/plain", "data": "eGluIGNow6Bv"}}]}, pid),
        ]
    return out


WORLD = _world()
OWNER = {f"{r['resourceType']}/{r['id']}": owner for r, owner in WORLD}
TYPES = sorted({r["resourceType"] for r, _ in WORLD})


@pytest.fixture
async def world(app, client):  # type: ignore[no-untyped-def]
    for resource, _ in WORLD:
        r = await client.put(f"{resource['resourceType']}/{resource['id']}", json=resource)
        assert r.status_code == 201, r.text
    r = await client.put("Observation/obs-pat-b-lab", json=_obs_update())  # a second version, for history
    assert r.status_code == 200, r.text
    return app


def _obs_update() -> dict[str, Any]:
    obs = next(r for r, _ in WORLD if r["id"] == "obs-pat-b-lab")
    return {**obs, "status": "amended"}


async def _patient_client(app, pid: str = A, scope: str = "patient/*.rs") -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    return client_for(app, await token_for(app, scope, patient=pid))


def _resources(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every resource a response carries, nested bundles included."""
    out: list[dict[str, Any]] = []
    if body.get("resourceType") == "Bundle":
        for e in body.get("entry", []):
            if "resource" in e:
                out += _resources(e["resource"])
    elif body.get("resourceType") not in (None, "OperationOutcome"):
        out.append(body)
    return out


def _assert_only(body: dict[str, Any], pid: str) -> None:
    for r in _resources(body):
        key = f"{r['resourceType']}/{r['id']}"
        assert OWNER.get(key) == pid, f"{key} (owner {OWNER.get(key)}) leaked to a token for {pid}"


# --------------------------------------------------------------------------- 401 / 403


async def test_missing_bad_expired_and_foreign_tokens_are_401(app) -> None:  # type: ignore[no-untyped-def]
    settings_ = app.state.settings
    expired = claims_for(settings_, Principal(scope="system/*.rs", client_id="x"), ttl=-10)
    wrong_aud = {**claims_for(settings_, Principal(scope="system/*.rs", client_id="x")), "aud": "https://elsewhere.example/fhir"}
    key = await app.state.verifier.key()
    cases = {
        "none": None,
        "garbage": "not-a-jwt",
        "expired": key.sign(expired),
        "wrong audience": key.sign(wrong_aud),
        "other key": new_key().sign(claims_for(settings_, Principal(scope="system/*.rs", client_id="x"))) ,
        "unsigned": jwt.encode(claims_for(settings_, Principal(scope="system/*.rs", client_id="x")), key=None, algorithm="none"),
    }
    for name, token in cases.items():
        async with client_for(app, token) as c:
            r = await c.get("Patient")
        assert r.status_code == 401, name
        assert r.headers["www-authenticate"].startswith("Bearer"), name
        assert issues(r.json())[0]["code"] == "login", name
        assert "Traceback" not in r.text and "/work" not in r.text


async def test_public_endpoints_need_no_token(app) -> None:  # type: ignore[no-untyped-def]
    async with client_for(app, None) as c:
        assert (await c.get("metadata")).status_code == 200
        assert (await c.get("Patient/x/$everything")).status_code == 401
        assert (await c.get("StructureDefinition")).status_code == 401


async def test_scopes_decide_interactions_403(world) -> None:  # type: ignore[no-untyped-def]
    app = world
    async with client_for(app, await token_for(app, "system/Observation.rs")) as c:
        assert (await c.get("Observation/obs-pat-a-lab")).status_code == 200
        r = await c.get("Patient/pat-a")
        assert r.status_code == 403 and "Patient" in issues(r.json())[0]["diagnostics"]
        assert (await c.post("Observation", json={"resourceType": "Observation", "status": "final", "code": {"text": "x"}})).status_code == 403
        assert (await c.delete("Observation/obs-pat-a-lab")).status_code == 403
        # an include of a type the token may not read is left out, not an error
        r = await c.get("Observation", params={"_include": "Observation:subject"})
        assert r.status_code == 200 and {x["resourceType"] for x in _resources(r.json())} == {"Observation"}
    async with client_for(app, await token_for(app, "user/Observation.read user/Patient.write")) as c:  # v1 aliases
        assert (await c.get("Observation", params={"_id": "obs-pat-a-lab"})).status_code == 200
        assert (await c.get("Patient/pat-a")).status_code == 403
        assert (await c.put("Patient/pat-new", json={"resourceType": "Patient", "id": "pat-new"})).status_code == 201


async def test_scope_restriction_by_category(world) -> None:  # type: ignore[no-untyped-def]
    app = world
    async with client_for(app, await token_for(app, "patient/Observation.rs?category=laboratory", patient=A)) as c:
        r = await c.get("Observation")
        assert sorted(x["id"] for x in _resources(r.json())) == ["obs-pat-a-lab"]
        assert (await c.get("Observation/obs-pat-a-vital")).status_code == 404


async def test_audit_events_are_read_only_and_need_their_own_scope(world) -> None:  # type: ignore[no-untyped-def]
    app = world
    async with client_for(app, await token_for(app, "system/*.cruds")) as c:
        assert (await c.get("AuditEvent")).status_code == 403
        r = await c.post("AuditEvent", json={"resourceType": "AuditEvent"})
        assert r.status_code == 403
    async with client_for(app, await token_for(app, "system/AuditEvent.rs")) as c:
        assert (await c.get("AuditEvent")).status_code == 200
        assert (await c.put("AuditEvent/x", json={"resourceType": "AuditEvent", "id": "x"})).status_code == 403
        assert (await c.delete("AuditEvent/x")).status_code == 403


# ------------------------------------------------------------------ patient compartment


async def test_reads_outside_the_compartment_are_404(world) -> None:  # type: ignore[no-untyped-def]
    async with await _patient_client(world) as c:
        assert (await c.get("Patient/pat-a")).status_code == 200
        assert (await c.get("Observation/obs-pat-a-lab/_history/1")).status_code == 200
        for path in ("Patient/pat-b", "Observation/obs-pat-b-lab", "Observation/obs-pat-b-lab/_history/1", "Organization/org-1",
                     "Observation/obs-pat-b-lab/_history", "Patient/pat-b/$everything", "Encounter/enc-pat-b/$transfer54",
                     "Encounter/enc-pat-b/$bhyt-xml"):
            r = await c.get(path)
            assert r.status_code == 404, (path, r.status_code, r.text[:200])
        r = await c.post("Patient/pat-b/$validate", json={"resourceType": "Patient"})
        assert r.status_code in (403, 404)


async def test_history_everything_and_bundles_stay_in_the_compartment(world) -> None:  # type: ignore[no-untyped-def]
    async with await _patient_client(world) as c:
        for path in ("_history", "Observation/_history", "Patient/pat-a/_history", "Patient/pat-a/$everything"):
            r = await c.get(path)
            assert r.status_code == 200, (path, r.text[:300])
            _assert_only(r.json(), A)
            assert _resources(r.json()), path
        bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
            {"request": {"method": "GET", "url": u}} for u in ("Patient/pat-b", "Observation?_revinclude=*", "Observation/obs-pat-b-lab", "Patient?_id=pat-b", "Organization/org-1")
        ]}
        r = await c.post("", json=bundle)
        assert r.status_code == 200
        _assert_only(r.json(), A)
        statuses = [e["response"]["status"] for e in r.json()["entry"]]
        assert statuses[0].startswith("404") and statuses[2].startswith("404")
        tx = {"resourceType": "Bundle", "type": "transaction", "entry": [
            {"request": {"method": "GET", "url": u}} for u in ("Observation?_include=*&_revinclude=*", "Patient?_has:Observation:subject:status=final", "Encounter?_id=enc-pat-b,enc-pat-a")
        ]}
        r = await c.post("", json=tx)
        assert r.status_code == 200, r.text[:300]
        _assert_only(r.json(), A)
        assert _resources(r.json())
        r = await c.post("", json={"resourceType": "Bundle", "type": "transaction", "entry": [{"request": {"method": "GET", "url": "Observation/obs-pat-b-lab"}}]})
        assert r.status_code == 404


async def test_type_level_everything_gives_a_patient_token_its_own_record_only(world) -> None:  # type: ignore[no-untyped-def]
    """``Patient/$everything`` walked to the end (``_count=3``): only patient A's compartment, each once."""
    async with await _patient_client(world) as c:
        seen: list[str] = []
        r = await c.get("Patient/$everything", params={"_count": "3"})
        while True:
            assert r.status_code == 200, r.text[:300]
            _assert_only(r.json(), A)
            seen += [f"{x['resourceType']}/{x['id']}" for x in _resources(r.json())]
            nxt = next((link["url"] for link in r.json()["link"] if link["relation"] == "next"), None)
            if nxt is None:
                break
            r = await c.get(nxt)
        assert sorted(seen) == sorted(k for k, owner in OWNER.items() if owner == A)
    async with client_for(world, await token_for(world, "system/Patient.rs")) as c:  # Patients, nothing of their compartments
        r = await c.get("Patient/$everything")
        assert r.status_code == 200
        assert {x["resourceType"] for x in _resources(r.json())} == {"Patient"}
    async with client_for(world, await token_for(world, "system/Observation.rs")) as c:
        r = await c.get("Patient/$everything")
        assert r.status_code == 403 and "Patient" in issues(r.json())[0]["diagnostics"]


async def test_patient_context_writes_stay_in_the_compartment(world) -> None:  # type: ignore[no-untyped-def]
    async with await _patient_client(world, A, "patient/Observation.cruds") as c:
        mine = {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "subject": {"reference": f"Patient/{A}"}}
        assert (await c.post("Observation", json=mine)).status_code == 201
        theirs = {**mine, "subject": {"reference": f"Patient/{B}"}}
        assert (await c.post("Observation", json=theirs)).status_code == 403
        assert (await c.put("Observation/obs-pat-b-vital", json={**theirs, "id": "obs-pat-b-vital"})).status_code == 403
        # not visible, so nothing to delete (as for an unknown id); it stays, checked below
        assert (await c.delete("Observation/obs-pat-b-vital")).status_code in (200, 204, 403, 404)
        moved = {**mine, "id": "obs-pat-a-vital", "subject": {"reference": f"Patient/{B}"}}
        assert (await c.put("Observation/obs-pat-a-vital", json=moved)).status_code == 403
    async with client_for(world, await token_for(world)) as admin:
        assert (await admin.get("Observation/obs-pat-b-vital")).json()["subject"]["reference"] == f"Patient/{B}"
        assert (await admin.get("Observation/obs-pat-a-vital")).json()["subject"]["reference"] == f"Patient/{A}"


# -------------------------------------------------------------------- the no-leak property

_PARAMS = st.sampled_from([
    ("_include", "*"), ("_revinclude", "*"), ("_include:iterate", "*"), ("_revinclude:iterate", "*"),
    ("_include", "Observation:subject"), ("_include", "Encounter:service-provider"), ("_revinclude", "Observation:subject"),
    ("_has:Observation:subject:code", "2345-7"), ("_has:Encounter:patient:status", "finished"),
    ("subject:Patient.name", "Lê"), ("subject:Patient.name", "Nguyễn"), ("patient.name", "le"), ("subject.identifier", "urn:test:cccd|0010pat-b"),
    ("_id", "pat-b"), ("_id", "obs-pat-b-lab,obs-pat-a-lab"), ("_id", "org-1"),
    ("subject", "Patient/pat-b"), ("patient", "pat-b"), ("subject", "Patient/pat-a"),
    ("_sort", "-_lastUpdated"), ("_sort", "_id"), ("_count", "1"), ("_count", "2"), ("_total", "accurate"),
    ("code", "2345-7"), ("category", "laboratory"), ("_elements", "id"), ("_summary", "true"),
    ("name", "le"), ("status", "final"), ("_lastUpdated", "gt2000-01-01"),
])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(types=st.lists(st.sampled_from(TYPES), min_size=1, max_size=3, unique=True), params=st.lists(_PARAMS, max_size=4), across=st.booleans(), post=st.booleans())
async def test_no_search_ever_returns_anything_outside_the_compartment(world, types: list[str], params: list[tuple[str, str]], across: bool, post: bool) -> None:  # type: ignore[no-untyped-def]
    async with await _patient_client(world) as c:
        if across or len(types) > 1:
            r = await c.get("", params=[("_type", ",".join(types)), *params])
        elif post:
            r = await c.post(f"{types[0]}/_search", content="&".join(f"{k}={v}" for k, v in params), headers={"Content-Type": "application/x-www-form-urlencoded"})
        else:
            r = await c.get(types[0], params=params)
        assert r.status_code in (200, 400), r.text[:300]
        pages = 0
        while r.status_code == 200 and pages < 8:  # follow the paging cursors too
            body = r.json()
            _assert_only(body, A)
            nxt = next((link["url"] for link in body.get("link", []) if link["relation"] == "next"), None)
            if nxt is None:
                break
            parts = urlsplit(nxt)
            r = await c.get(parts.path.removeprefix("/fhir/"), params=parse_qsl(parts.query, keep_blank_values=True))
            pages += 1


async def test_a_cursor_from_a_wider_token_shows_only_the_compartment(world) -> None:  # type: ignore[no-untyped-def]
    async with client_for(world, await token_for(world)) as admin:
        first = (await admin.get("Observation", params={"_count": "1"})).json()
    nxt = next(link["url"] for link in first["link"] if link["relation"] == "next")
    parts = urlsplit(nxt)
    async with await _patient_client(world, B) as c:
        r = await c.get("Observation", params=parse_qsl(parts.query))
        assert r.status_code == 200
        _assert_only(r.json(), B)


# ------------------------------------------------------------------ facility-limited vendor


async def test_a_vendor_writes_only_its_facilities(world) -> None:  # type: ignore[no-untyped-def]
    from mappings.transfer54.generate import records  # the project's own generator

    app = world
    record = records(7, 1)[0]
    facility = record["MA_CSKCB"]
    async with client_for(app, await token_for(app, "system/*.cruds", facilities=("99999",))) as c:
        r = await c.post("$import-transfer54", json=record)
        assert r.status_code == 403, r.text[:300]
        assert facility in issues(r.json())[0]["diagnostics"]
        tagged = {"resourceType": "Condition", "subject": {"reference": f"Patient/{A}"}, "code": {"text": "x"},
                  "identifier": [{"system": "https://lienthong.dev/fhir/sid/t54-part", "value": f"{facility}/LK1/main"}]}
        assert (await c.post("Condition", json=tagged)).status_code == 403
        tx = {"resourceType": "Bundle", "type": "transaction", "entry": [
            {"request": {"method": "POST", "url": "Patient"}, "resource": {"resourceType": "Patient", "name": [{"family": "Mới"}]}},
            {"request": {"method": "POST", "url": "Condition"}, "resource": tagged},
        ]}
        assert (await c.post("", json=tx)).status_code == 403
    async with client_for(app, await token_for(app)) as admin:
        assert (await admin.get("Patient", params={"name": "Mới"})).json().get("total", 0) == 0
        assert (await admin.get("Encounter", params={"_count": "50"})).json()["total"] == 2  # nothing of the refused record
    async with client_for(app, await token_for(app, "system/*.cruds", facilities=(facility,))) as c:
        r = await c.post("$import-transfer54", json=record)
        assert r.status_code == 200, r.text[:300]


async def test_a_vendor_sends_insurance_tables_of_its_facilities_only(app) -> None:  # type: ignore[no-untyped-def]
    from tests.bhyt_envelopes import envelope, generated, hoso

    episodes = generated(21, 2, "130")
    facilities = sorted({ep.tables["XML1"][0]["MA_CSKCB"] for ep in episodes})
    data = envelope([hoso(e) for e in episodes])
    async with client_for(app, await token_for(app, "system/*.cruds", facilities=(facilities[0],) if len(facilities) > 1 else ("99999",))) as c:
        r = await c.post("$import-bhyt", content=data, headers={"Content-Type": "application/xml"})
        assert r.status_code == 403, r.text[:300]
        assert "facility" in issues(r.json())[0]["diagnostics"]
    async with client_for(app, await token_for(app)) as admin:
        assert (await admin.get("Encounter", params={"_summary": "count"})).json()["total"] == 0  # nothing stored
    async with client_for(app, await token_for(app, "system/*.cruds", facilities=tuple(facilities))) as c:
        r = await c.post("$import-bhyt", content=data, headers={"Content-Type": "application/xml"})
        assert r.status_code == 200 and all(e["response"]["status"].startswith("201") for e in r.json()["entry"]), r.text[:300]


async def test_a_patient_token_cannot_import_other_patients_insurance_tables(app) -> None:  # type: ignore[no-untyped-def]
    """$import-bhyt keeps several episodes in flight: each is still stored through the token's
    guard, so a patient-context token writes nothing outside its compartment, and says why."""
    from tests.bhyt_envelopes import envelope, generated, hoso

    async with client_for(app, await token_for(app)) as admin:
        r = await admin.post("Patient", json={"resourceType": "Patient", "name": [{"text": "Khác"}]}, headers=JSON)
        own = r.json()["id"]
    data = envelope([hoso(e) for e in generated(22, 3, "130")])
    async with client_for(app, await token_for(app, "patient/*.cruds", patient=own)) as c:
        r = await c.post("$import-bhyt", content=data, headers={"Content-Type": "application/xml"})
    assert r.status_code == 200, r.text[:300]  # a batch-response: each episode refused on its own
    entries = r.json()["entry"]
    assert len(entries) == 3 and all(e["response"]["status"] == "403" for e in entries)
    assert all("outside patient" in issues(e["response"]["outcome"])[0]["diagnostics"] for e in entries)
    async with client_for(app, await token_for(app)) as admin:
        assert (await admin.get("Encounter", params={"_summary": "count"})).json()["total"] == 0
        assert (await admin.get("Patient", params={"_summary": "count"})).json()["total"] == 1  # only its own
