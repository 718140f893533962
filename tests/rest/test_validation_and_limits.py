"""Bad input: every problem reported with its path, nothing stored, never a 5xx."""

from __future__ import annotations

import pytest

from .helpers import JSON, expressions, issues, patient

pytestmark = pytest.mark.anyio


async def test_every_problem_at_once_with_paths(client) -> None:
    bad = patient() | {"gender": "nam", "birthDate": "1985-13-40", "shoeSize": 42, "active": "yes"}
    bad["name"][0]["family"] = 7
    r = await client.post("Patient", json=bad, headers=JSON)
    assert r.status_code == 400
    where = expressions(r.json())
    assert {"Patient.gender", "Patient.birthDate", "Patient.shoeSize", "Patient.active", "Patient.name[0].family"} <= where
    assert (await client.get("Patient")).json()["total"] == 0


async def test_content_errors_are_422(client) -> None:
    r = await client.post("Observation", json={"resourceType": "Observation", "status": "not-a-status"}, headers=JSON)
    assert r.status_code == 422
    assert {"Observation.status", "Observation.code"} <= expressions(r.json())


async def test_resource_type_must_match_url(client) -> None:
    r = await client.post("Patient", json={"resourceType": "Observation", "status": "final", "code": {"text": "x"}}, headers=JSON)
    assert r.status_code == 400
    assert "Observation.resourceType" in expressions(r.json())


async def test_malformed_bodies(client) -> None:
    for body in (b"", b"{", b"[1,2]", b'"text"', b"\xff\xfe"):
        r = await client.post("Patient", content=body, headers=JSON)
        assert r.status_code == 400, body
        assert issues(r.json())


async def test_limits(client) -> None:
    big = patient() | {"text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">" + "x" * 250_000 + "</div>"}}
    r = await client.post("Patient", json=big, headers=JSON)
    assert r.status_code == 413 and "limit" in issues(r.json())[0]["diagnostics"]
    deep: dict = {"url": "http://x", "valueString": "y"}
    for _ in range(60):
        deep = {"url": "http://x", "extension": [deep]}
    r = await client.post("Patient", json=patient() | {"extension": [deep]}, headers=JSON)
    assert r.status_code == 400
    very_deep = b"[" * 100_000 + b"]" * 100_000
    assert (await client.post("Patient", content=very_deep, headers=JSON)).status_code == 400


async def test_content_negotiation(client) -> None:
    pid = (await client.post("Patient", json=patient(), headers=JSON)).json()["id"]
    as_xml = await client.get(f"Patient/{pid}", headers={"Accept": "application/fhir+xml"})
    assert as_xml.status_code == 200 and as_xml.headers["content-type"].startswith("application/fhir+xml")
    assert (await client.get(f"Patient/{pid}", params={"_format": "xml"})).content.startswith(b"<?xml")
    assert (await client.get(f"Patient/{pid}", headers={"Accept": "text/turtle"})).status_code == 406
    assert (await client.get(f"Patient/{pid}", params={"_format": "ttl"})).status_code == 406
    as_json = await client.get(f"Patient/{pid}", params={"_format": "json"}, headers={"Accept": "application/fhir+xml"})
    assert as_json.status_code == 200 and as_json.json()["id"] == pid
    assert (await client.get(f"Patient/{pid}", headers={"Accept": "application/json"})).status_code == 200
    assert (await client.get(f"Patient/{pid}", headers={"Accept": "text/html, */*;q=0.1"})).status_code == 200
    r = await client.post("Patient", content=b"<Patient/>", headers={"Content-Type": "application/fhir+xml"})
    assert r.status_code == 400 and "FHIR namespace" in r.text  # XML, but not FHIR XML
    r = await client.post("Patient", content=b"@prefix fhir: <http://hl7.org/fhir/> .", headers={"Content-Type": "text/turtle"})
    assert r.status_code == 415
    assert (await client.post("Patient", content=b"{}", headers={"Content-Type": ","})).status_code == 415
    pretty = await client.get(f"Patient/{pid}", params={"_pretty": "true"})
    assert b"\n  " in pretty.content


async def test_method_not_allowed_and_unknown_path(client) -> None:
    r = await client.post("Patient/x", json={})
    assert r.status_code == 405 and issues(r.json())
    r = await client.get("Patient/x/y/z/w")
    assert r.status_code == 404 and issues(r.json())


async def test_decimal_precision_kept(client) -> None:
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "Cân nặng"}, "valueQuantity": {"value": 62.50, "unit": "kg"}}
    r = await client.post("Observation", content=b'{"resourceType":"Observation","status":"final","code":{"text":"w"},"valueQuantity":{"value":62.50,"unit":"kg"}}', headers=JSON)
    assert r.status_code == 201 and b'"value":62.50' in r.content
    assert obs  # the builder documents the shape


# -- issue 14 item 18: validation of a hostile body is bounded, and does not stall the server


async def test_issues_of_one_resource_are_bounded(client) -> None:
    """60,000 empty names: the first 100 issues and one note that checking stopped, not 60,000."""
    body = b'{"resourceType":"Patient","name":[' + b",".join([b"{}"] * 60_000) + b"]}"
    r = await client.post("Patient", content=body, headers=JSON)
    assert r.status_code == 400
    found = issues(r.json())
    assert len(found) == 101 and len(r.content) < 50_000
    assert found[0]["expression"] == ["Patient.name[0]"]
    assert found[-1]["code"] == "too-costly" and "checking stopped after 100 issues" in found[-1]["diagnostics"]


async def test_the_limit_note_does_not_change_the_status(client) -> None:
    """150 wrongly typed given names are content errors (422) however many there are."""
    body = patient() | {"name": [{"family": "Nguyễn", "given": [1] * 150}]}
    r = await client.post("Patient", json=body, headers=JSON)
    assert r.status_code == 422
    found = issues(r.json())
    assert len(found) == 101 and found[-1]["code"] == "too-costly"


async def test_a_transaction_outcome_is_bounded(client) -> None:
    """Each entry is cut at 100 issues, and the outcome of the whole Bundle at 100 and a count of the rest."""
    entry = {"resource": patient() | {"name": [{"given": [1] * 150}]}, "request": {"method": "POST", "url": "Patient"}}
    r = await client.post("", json={"resourceType": "Bundle", "type": "transaction", "entry": [entry] * 3}, headers=JSON)
    assert r.status_code == 422
    found = issues(r.json())
    assert len(found) == 101
    assert found[-1]["code"] == "too-costly" and "200 more issue(s) not shown" in found[-1]["diagnostics"]


async def test_a_hostile_body_does_not_stall_other_requests(store) -> None:  # type: ignore[no-untyped-def]
    """A 1.5 MB Patient of 500,000 empty names in flight: /metadata still answers at once (it
    waited the whole validation, ~3 s, when validation ran on the event loop for every issue)."""
    import asyncio
    import time

    from server.app import create_app
    from server.config import Settings

    from .conftest import client_for, token_for

    app = create_app(Settings(), store)  # the production body limit (32 MiB)
    body = b'{"resourceType":"Patient","name":[' + b",".join([b"{}"] * 500_000) + b"]}"
    try:
        async with client_for(app, await token_for(app)) as c:
            assert (await c.get("metadata")).status_code == 200  # warm
            start = time.perf_counter()

            async def hostile() -> int:
                return (await c.post("Patient", content=body, headers=JSON)).status_code

            async def metadata() -> float:
                await asyncio.sleep(0.02)
                r = await c.get("metadata")
                assert r.status_code == 200
                return time.perf_counter() - start

            status, waited = await asyncio.gather(hostile(), metadata())
            assert status == 400
            assert waited < 2.0, f"/metadata waited {waited:.2f}s behind a hostile write"
    finally:
        await app.state.audit.stop()
