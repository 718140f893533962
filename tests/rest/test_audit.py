"""Every interaction leaves an AuditEvent: reads after the response, writes in their own unit of work."""

from __future__ import annotations

import pytest

from .conftest import client_for, token_for

pytestmark = pytest.mark.anyio

AUDITOR = "system/AuditEvent.rs"


async def _events(app, **params: str) -> list[dict]:  # type: ignore[no-untyped-def]
    await app.state.audit.flush()
    async with client_for(app, await token_for(app, AUDITOR, client_id="auditor")) as c:
        r = await c.get("AuditEvent", params={**params, "_count": "50"})
        assert r.status_code == 200, r.text
        events = [e["resource"] for e in r.json().get("entry", []) if e["search"]["mode"] == "match"]
    # the auditor's own searches are audited too; they are not what the tests look at
    return [e for e in events if all(a["who"]["identifier"]["value"] != "auditor" for a in e["agent"])]


def _subtypes(events: list[dict]) -> list[str]:
    return sorted(e["subtype"][0]["code"] for e in events)


async def test_who_opened_my_record_is_one_search(app, client) -> None:  # type: ignore[no-untyped-def]
    pid = (await client.post("Patient", json={"resourceType": "Patient", "name": [{"family": "Phạm"}]})).json()["id"]
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "HbA1c"}, "subject": {"reference": f"Patient/{pid}"}}
    oid = (await client.post("Observation", json=obs)).json()["id"]
    async with client_for(app, await token_for(app, "user/*.rs", client_id="workspace", user="bs.lan", role="doctor")) as doctor:
        assert (await doctor.get(f"Observation/{oid}")).status_code == 200
        assert (await doctor.get("Observation", params={"subject": f"Patient/{pid}"})).status_code == 200
        assert (await doctor.get(f"Patient/{pid}/$everything")).status_code == 200
    log = await _events(app, patient=f"Patient/{pid}")
    assert _subtypes(log) == ["create", "create", "operation", "read", "search-type"]
    by_doctor = [e for e in log if e["agent"][0]["who"]["identifier"]["value"] == "bs.lan"]
    assert len(by_doctor) == 3 and all(e["agent"][1]["who"]["identifier"]["value"] == "workspace" for e in by_doctor)
    read = next(e for e in by_doctor if e["subtype"][0]["code"] == "read")
    assert f"Observation/{oid}" in {x.get("what", {}).get("reference") for x in read["entity"]}
    assert read["agent"][0]["network"]["address"] == "127.0.0.1" and read["outcome"] == "0"


async def test_type_level_everything_is_audited_with_what_it_showed(app, client) -> None:  # type: ignore[no-untyped-def]
    pid = (await client.post("Patient", json={"resourceType": "Patient", "name": [{"family": "Võ"}]})).json()["id"]
    async with client_for(app, await token_for(app, "user/*.rs", client_id="workspace", user="bs.lan", role="doctor")) as doctor:
        assert (await doctor.get("Patient/$everything")).status_code == 200
    log = await _events(app, patient=f"Patient/{pid}")
    assert [e["subtype"][0]["code"] for e in log if e["agent"][0]["who"]["identifier"]["value"] == "bs.lan"] == ["operation"]


async def test_a_write_is_audited_inside_its_own_unit_of_work(app, client) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("Patient", json={"resourceType": "Patient"})
    pid = r.json()["id"]
    # no flush: the event was committed with the write
    stored = app.state.repo.store
    from server.storage.base import Query

    page = await stored.search(Query("AuditEvent", limit=10))
    events = [v for v in page.versions]
    assert len(events) == 1
    assert b'"create"' in events[0].body and f"Patient/{pid}".encode() in events[0].body


async def test_an_update_is_audited_with_the_version_it_made(app, client) -> None:  # type: ignore[no-untyped-def]
    pid = (await client.post("Patient", json={"resourceType": "Patient", "gender": "male"})).json()["id"]
    assert (await client.put(f"Patient/{pid}", json={"resourceType": "Patient", "id": pid, "gender": "female"})).status_code == 200
    updates = [e for e in await _events(app, entity=f"Patient/{pid}") if e["subtype"][0]["code"] == "update"]
    assert len(updates) == 1
    [entity] = [x for x in updates[0]["entity"] if x.get("what", {}).get("reference") == f"Patient/{pid}" and x["role"]["code"] == "4"]
    assert entity["detail"] == [{"type": "versionId", "valueString": "2"}]


async def test_refusals_and_failures_are_audited(app, client) -> None:  # type: ignore[no-untyped-def]
    assert (await client.post("Patient", json={"resourceType": "Patient", "gender": "robot"})).status_code in (400, 422)
    async with client_for(app, "not-a-token") as anonymous:
        assert (await anonymous.get("Patient")).status_code == 401
    async with client_for(app, await token_for(app, "system/Observation.rs", client_id="narrow")) as narrow:
        assert (await narrow.get("Patient/x")).status_code == 403
    failed = await _events(app, outcome="4")
    assert _subtypes(failed) == ["create", "read", "search-type"]
    unauthenticated = next(e for e in failed if e["subtype"][0]["code"] == "search-type")
    assert "not a JWT" in unauthenticated["outcomeDesc"] and unauthenticated["agent"][0]["who"]["display"] == "anonymous"


async def test_a_batch_is_audited_with_each_write_and_its_reads(app, client) -> None:  # type: ignore[no-untyped-def]
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "POST", "url": "Patient"}, "resource": {"resourceType": "Patient"}},
        {"request": {"method": "GET", "url": "Patient"}},
    ]}
    assert (await client.post("", json=bundle)).status_code == 200
    assert _subtypes(await _events(app)) == ["batch", "batch"]  # the write's unit, and the request with its read


async def test_the_audit_trail_is_for_auditors_only(app, client) -> None:  # type: ignore[no-untyped-def]
    await client.get("Patient")
    async with client_for(app, await token_for(app, "user/*.cruds", user="bs.lan", role="doctor")) as doctor:
        assert (await doctor.get("AuditEvent")).status_code == 403
    async with client_for(app, await token_for(app, "user/*.rs", user="quantri", role="admin")) as admin:
        r = await admin.get("AuditEvent")
        assert r.status_code == 200
    async with client_for(app, await token_for(app, "patient/*.rs", patient="p1")) as patient:
        assert (await patient.get("AuditEvent")).status_code == 403


async def test_logins_are_stored_as_audit_events(app) -> None:  # type: ignore[no-untyped-def]
    import httpx

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        r = await c.post("/auth/token", data={"grant_type": "client_credentials", "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion": "x.y.z", "scope": "system/*.rs"})
        assert r.status_code in (400, 401)
    refused = await _events(app, type="http://dicom.nema.org/resources/ontology/DCM|110114")
    assert [(e["subtype"][0]["code"], e["outcome"]) for e in refused] == [("token", "4")]


async def test_a_transaction_is_one_event_and_a_batch_records_its_failures(app, client) -> None:  # type: ignore[no-untyped-def]
    tx = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"request": {"method": "POST", "url": "Patient"}, "resource": {"resourceType": "Patient"}},
        {"request": {"method": "POST", "url": "Patient"}, "resource": {"resourceType": "Patient"}},
    ]}
    assert (await client.post("", json=tx)).status_code == 200
    assert _subtypes(await _events(app)) == ["transaction"]
    batch = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "POST", "url": "Patient"}, "resource": {"resourceType": "Patient"}},
        {"request": {"method": "PUT", "url": "Patient/x"}, "resource": {"resourceType": "Patient", "id": "y"}},
    ]}
    assert (await client.post("", json=batch)).status_code == 200
    assert _subtypes(await _events(app)) == ["batch", "batch", "transaction"]  # the write, and the request itself
