"""PATCH over HTTP: JSON Patch and FHIRPath Patch, If-Match, conditional, in transactions, access."""

from __future__ import annotations

import base64
import json

import pytest

from server.fhir.fhirxml import to_xml

from .conftest import client_for, token_for
from .helpers import JSON, patient

pytestmark = pytest.mark.anyio

JSON_PATCH = {"Content-Type": "application/json-patch+json"}


def _set_gender(value: str) -> dict:
    return {"resourceType": "Parameters", "parameter": [{"name": "operation", "part": [
        {"name": "type", "valueCode": "replace"}, {"name": "path", "valueString": "Patient.gender"}, {"name": "value", "valueCode": value}]}]}


async def _new(client, **extra) -> str:  # type: ignore[no-untyped-def]
    return (await client.post("Patient", json={**patient(), "gender": "male", **extra}, headers=JSON)).json()["id"]


async def test_json_patch_with_if_match(client) -> None:  # type: ignore[no-untyped-def]
    pid = await _new(client)
    ops = [{"op": "replace", "path": "/gender", "value": "female"}]
    r = await client.patch(f"Patient/{pid}", content=json.dumps(ops), headers={**JSON_PATCH, "If-Match": 'W/"1"'})
    assert r.status_code == 200 and r.json()["gender"] == "female" and r.headers["etag"] == 'W/"2"'
    stale = await client.patch(f"Patient/{pid}", content=json.dumps(ops), headers={**JSON_PATCH, "If-Match": 'W/"1"'})
    assert stale.status_code == 412
    assert (await client.get(f"Patient/{pid}/_history")).json()["total"] == 2


async def test_fhirpath_patch_in_json_and_xml(client) -> None:  # type: ignore[no-untyped-def]
    pid = await _new(client)
    r = await client.patch(f"Patient/{pid}", json=_set_gender("female"), headers=JSON)
    assert r.status_code == 200 and r.json()["gender"] == "female"
    r = await client.patch(f"Patient/{pid}", content=to_xml(_set_gender("other")), headers={"Content-Type": "application/fhir+xml"})
    assert r.status_code == 200 and r.json()["gender"] == "other"


async def test_a_patch_that_breaks_the_resource_is_refused_and_nothing_is_stored(client) -> None:  # type: ignore[no-untyped-def]
    pid = await _new(client)
    r = await client.patch(f"Patient/{pid}", json=_set_gender("robot"), headers=JSON)
    assert r.status_code in (400, 422) and "gender" in r.text
    r = await client.patch(f"Patient/{pid}", content=json.dumps([{"op": "replace", "path": "/id", "value": "other"}]), headers=JSON_PATCH)
    assert r.status_code == 422
    assert (await client.get(f"Patient/{pid}")).json()["meta"]["versionId"] == "1"
    assert (await client.patch("Patient/nobody", json=_set_gender("female"), headers=JSON)).status_code == 404
    assert (await client.patch(f"Patient/{pid}", content=b"gender=female", headers={"Content-Type": "text/plain"})).status_code == 415


async def test_conditional_patch(client) -> None:  # type: ignore[no-untyped-def]
    one = await _new(client, identifier=[{"system": "urn:t", "value": "one"}])
    await _new(client, identifier=[{"system": "urn:t", "value": "two"}])
    await _new(client, identifier=[{"system": "urn:t", "value": "two"}])
    r = await client.patch("Patient", params={"identifier": "urn:t|one"}, json=_set_gender("female"), headers=JSON)
    assert r.status_code == 200 and r.json()["id"] == one
    assert (await client.patch("Patient", params={"identifier": "urn:t|two"}, json=_set_gender("female"), headers=JSON)).status_code == 412
    assert (await client.patch("Patient", params={"identifier": "urn:t|none"}, json=_set_gender("female"), headers=JSON)).status_code == 404


async def test_patch_in_a_transaction_and_a_batch(client) -> None:  # type: ignore[no-untyped-def]
    pid = await _new(client)
    binary = {"resourceType": "Binary", "contentType": "application/json-patch+json",
              "data": base64.b64encode(json.dumps([{"op": "add", "path": "/active", "value": False}]).encode()).decode()}
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": _set_gender("female"), "request": {"method": "PATCH", "url": f"Patient/{pid}"}},
        {"fullUrl": "urn:uuid:org", "resource": {"resourceType": "Organization", "name": "BV Đa khoa"}, "request": {"method": "POST", "url": "Organization"}}]}
    r = await client.post("", json=bundle, headers=JSON)
    assert r.status_code == 200, r.text
    assert (await client.get(f"Patient/{pid}")).json()["gender"] == "female"
    link = {"resourceType": "Parameters", "parameter": [{"name": "operation", "part": [
        {"name": "type", "valueCode": "add"}, {"name": "path", "valueString": "Patient"}, {"name": "name", "valueString": "managingOrganization"},
        {"name": "value", "valueReference": {"reference": "urn:uuid:org2"}}]}]}
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": link, "request": {"method": "PATCH", "url": f"Patient/{pid}"}},
        {"resource": binary, "request": {"method": "PATCH", "url": f"Patient/{pid}x"}},
        {"fullUrl": "urn:uuid:org2", "resource": {"resourceType": "Organization", "name": "BV Tỉnh"}, "request": {"method": "POST", "url": "Organization"}}]}
    r = await client.post("", json=bundle, headers=JSON)
    assert r.status_code == 404  # Patient/{pid}x does not exist: the whole transaction fails
    assert "managingOrganization" not in (await client.get(f"Patient/{pid}")).json()
    bundle["entry"][1]["request"]["url"] = f"Patient/{pid}"
    bundle["entry"] = [bundle["entry"][0], bundle["entry"][2]]
    r = await client.post("", json=bundle, headers=JSON)
    assert r.status_code == 200, r.text
    org = (await client.get(f"Patient/{pid}")).json()["managingOrganization"]["reference"]
    assert org.startswith("Organization/") and (await client.get(org)).status_code == 200  # the urn:uuid was rewritten
    batch = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": binary, "request": {"method": "PATCH", "url": f"Patient/{pid}"}},
        {"resource": {"resourceType": "Patient"}, "request": {"method": "PATCH", "url": f"Patient/{pid}"}},
        {"resource": {**binary, "data": "not base64!"}, "request": {"method": "PATCH", "url": f"Patient/{pid}"}}]}
    r = await client.post("", json=batch, headers=JSON)
    assert [e["response"]["status"][:3] for e in r.json()["entry"]] == ["200", "422", "400"]
    assert (await client.get(f"Patient/{pid}")).json()["active"] is False


async def test_a_patient_token_cannot_patch_another_patient_and_patches_are_audited(app, client) -> None:  # type: ignore[no-untyped-def]
    mine, other = await _new(client), await _new(client)
    async with client_for(app, await token_for(app, "patient/Patient.rus", patient=mine)) as c:
        assert (await c.patch(f"Patient/{mine}", json=_set_gender("female"), headers=JSON)).status_code == 200
        r = await c.patch(f"Patient/{other}", json=_set_gender("female"), headers=JSON)
        assert r.status_code == 404  # not visible, so not there
    assert (await client.get(f"Patient/{other}")).json()["gender"] == "male"
    await app.state.audit.flush()
    async with client_for(app, await token_for(app, "system/AuditEvent.rs", client_id="auditor")) as auditor:
        events = (await auditor.get("AuditEvent", params={"subtype": "patch"})).json()
    assert {e["resource"]["action"] for e in events["entry"]} == {"U"} and events["total"] == 2
