"""Referential integrity (issue 14, item 11): local references must resolve, referred-to resources stay."""

from __future__ import annotations

from typing import AsyncIterator

import pytest
from fastapi import FastAPI

from server.app import create_app
from server.config import Settings

from .conftest import client_for, token_for
from .helpers import JSON, expressions, issues, patient

pytestmark = pytest.mark.anyio


def encounter(patient_ref: str) -> dict:
    return {"resourceType": "Encounter", "status": "finished", "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}, "subject": {"reference": patient_ref}}


def observation(subject: str, **extra: object) -> dict:
    return {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "subject": {"reference": subject}, **extra}


async def _stored_patient(client, id_: str = "p1") -> str:  # type: ignore[no-untyped-def]
    r = await client.put(f"Patient/{id_}", json=patient() | {"id": id_}, headers=JSON)
    assert r.status_code in (200, 201)
    return f"Patient/{id_}"


async def test_a_reference_to_a_missing_resource_is_422_naming_the_element(client) -> None:
    r = await client.post("Observation", json=observation("Patient/does-not-exist"), headers=JSON)
    assert r.status_code == 422
    assert expressions(r.json()) == {"Observation.subject"}
    assert "Patient/does-not-exist" in issues(r.json())[0]["diagnostics"]
    assert (await client.get("Observation")).json()["total"] == 0
    # an absolute URL on this server's own base is local too
    r = await client.post("Observation", json=observation("http://testserver/fhir/Patient/nope"), headers=JSON)
    assert r.status_code == 422 and expressions(r.json()) == {"Observation.subject"}
    # and an update is checked as a create
    r = await client.put("Observation/o1", json=observation("Patient/nope", id="o1", performer=[{"reference": "Practitioner/gone"}]), headers=JSON)
    assert r.status_code == 422 and expressions(r.json()) == {"Observation.subject", "Observation.performer[0]"}


async def test_references_that_are_not_local_or_resolve_are_accepted(client) -> None:
    ref = await _stored_patient(client)
    for subject in (ref, f"{ref}/_history/1", f"http://testserver/fhir/{ref}", "http://other.example/fhir/Patient/1", "urn:uuid:8c5b2c5e-1b7e-4a0b-9f3e-2f4b1c0f6a11", "Patient?identifier=urn:test:cccd|001085012345"):
        r = await client.post("Observation", json=observation(subject), headers=JSON)
        assert r.status_code == 201, (subject, r.text)
    contained = observation("#p", contained=[{"resourceType": "Patient", "id": "p"}])
    assert (await client.post("Observation", json=contained, headers=JSON)).status_code == 201


async def test_deleting_a_referred_to_resource_is_409_naming_the_referrers(client) -> None:
    ref = await _stored_patient(client)
    enc = (await client.post("Encounter", json=encounter(ref), headers=JSON)).json()["id"]
    r = await client.delete(ref)
    assert r.status_code == 409
    text = issues(r.json())[0]["diagnostics"]
    assert "1 Encounter" in text and f"Encounter/{enc}" in text
    assert (await client.get(ref)).status_code == 200
    # once the Encounter is gone, the Patient may go
    assert (await client.delete(f"Encounter/{enc}")).status_code == 200
    assert (await client.delete(ref)).status_code == 200


async def test_a_transaction_deletes_both_and_creates_both(client) -> None:
    ref = await _stored_patient(client)
    enc = (await client.post("Encounter", json=encounter(ref), headers=JSON)).json()["id"]
    both = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"request": {"method": "DELETE", "url": ref}},
        {"request": {"method": "DELETE", "url": f"Encounter/{enc}"}},
    ]}
    r = await client.post("", json=both, headers=JSON)
    assert r.status_code == 200, r.text
    assert (await client.get(ref)).status_code == 410
    created = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:0b0e6c55-2a8a-4c1e-9d59-7f4a1d2b3c4d", "resource": encounter("urn:uuid:5e8b3c1a-6f2d-4b7e-8a9c-1d2e3f4a5b6c"), "request": {"method": "POST", "url": "Encounter"}},
        {"fullUrl": "urn:uuid:5e8b3c1a-6f2d-4b7e-8a9c-1d2e3f4a5b6c", "resource": patient(), "request": {"method": "POST", "url": "Patient"}},
    ]}
    r = await client.post("", json=created, headers=JSON)
    assert r.status_code == 200, r.text
    # a transaction whose entry refers to nothing fails whole, naming the entry's element
    dangling = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": patient("001085099999"), "request": {"method": "POST", "url": "Patient"}},
        {"resource": encounter("Patient/nope"), "request": {"method": "POST", "url": "Encounter"}},
    ]}
    r = await client.post("", json=dangling, headers=JSON)
    assert r.status_code == 422 and expressions(r.json()) == {"Bundle.entry[1].resource.subject"}
    assert (await client.get("Patient", params={"identifier": "urn:test:cccd|001085099999"})).json()["total"] == 0


async def test_a_409_names_only_referrers_the_caller_may_read(app: FastAPI, client) -> None:
    ref = await _stored_patient(client)
    enc = (await client.post("Encounter", json=encounter(ref), headers=JSON)).json()["id"]
    async with client_for(app, await token_for(app, "system/Patient.cruds")) as narrow:
        r = await narrow.delete(ref)
    assert r.status_code == 409
    text = issues(r.json())[0]["diagnostics"]
    assert "1 Encounter" in text and enc not in text


@pytest.fixture
async def lax_app(store) -> AsyncIterator[FastAPI]:  # type: ignore[no-untyped-def]
    application = create_app(Settings(integrity_on_write=False, integrity_on_delete=False), store)
    yield application
    await application.state.audit.stop()


async def test_settings_turn_either_check_off(lax_app: FastAPI) -> None:
    async with client_for(lax_app, await token_for(lax_app)) as c:
        assert (await c.post("Observation", json=observation("Patient/not-yet"), headers=JSON)).status_code == 201
        ref = await _stored_patient(c)
        assert (await c.post("Encounter", json=encounter(ref), headers=JSON)).status_code == 201
        assert (await c.delete(ref)).status_code == 200


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIENTHONG_INTEGRITY_ON_WRITE", "0")
    monkeypatch.setenv("LIENTHONG_INTEGRITY_ON_DELETE", "off")
    settings = Settings.from_env()
    assert not settings.integrity_on_write and not settings.integrity_on_delete
    assert Settings().integrity_on_write and Settings().integrity_on_delete
