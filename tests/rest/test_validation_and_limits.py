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
