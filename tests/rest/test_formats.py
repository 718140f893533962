"""FHIR XML on every kind of interaction, HEAD, and gzip: what an XML-speaking vendor sees."""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import canonicalize

import pytest

from server import jsonio
from server.fhir.fhirxml import from_xml, to_xml

from .conftest import client_for
from .helpers import JSON, issues, patient

pytestmark = pytest.mark.anyio

XML = {"Content-Type": "application/fhir+xml", "Accept": "application/fhir+xml"}
HL7 = Path(__file__).resolve().parents[2] / "server" / "fhir"


def _xml(r) -> dict:  # type: ignore[no-untyped-def]
    assert r.headers["content-type"].startswith("application/fhir+xml"), (r.status_code, r.headers, r.text[:300])
    return from_xml(r.content)


async def test_the_hl7_example_in_xml_is_stored_and_read_back_as_its_json(client) -> None:  # type: ignore[no-untyped-def]
    xml = (HL7 / "xml_testdata" / "Patient-example.xml").read_bytes()
    org = {"resourceType": "Organization", "id": "1", "name": "Gastroenterology"}  # its managingOrganization must exist
    assert (await client.put("Organization/1", json=org, headers=JSON)).status_code == 201
    r = await client.put("Patient/example", content=xml, headers=XML)
    assert r.status_code == 201, r.text
    stored = (await client.get("Patient/example", headers=JSON)).json()
    expected = jsonio.loads((HL7 / "structure" / "testdata" / "Patient-example.json").read_bytes())
    stored.pop("meta")
    assert canonicalize(stored["text"].pop("div")) == canonicalize(expected["text"].pop("div"))  # XHTML: same tree
    assert jsonio.loads(jsonio.dumps(stored)) == expected
    assert _xml(await client.get("Patient/example", headers=XML))["name"] == expected["name"]


async def test_search_history_transaction_and_operations_speak_xml(client) -> None:  # type: ignore[no-untyped-def]
    created = await client.post("Patient", content=to_xml(patient()), headers=XML)
    assert created.status_code == 201
    pid = _xml(created)["id"]
    found = _xml(await client.get("Patient", params={"_id": pid, "_format": "xml"}))
    assert found["resourceType"] == "Bundle" and found["entry"][0]["resource"]["id"] == pid
    history = _xml(await client.get(f"Patient/{pid}/_history", headers={"Accept": "application/xml"}))
    assert history["type"] == "history"
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:a", "resource": patient(), "request": {"method": "POST", "url": "Patient"}},
        {"resource": {"resourceType": "Observation", "status": "final", "code": {"text": "cân nặng"}, "subject": {"reference": "urn:uuid:a"},
                      "valueQuantity": {"value": jsonio.loads(b"62.50"), "unit": "kg"}},
         "request": {"method": "POST", "url": "Observation"}}]}
    reply = await client.post("", content=to_xml(bundle), headers=XML)
    assert reply.status_code == 200, reply.text
    assert [e["response"]["status"][:3] for e in _xml(reply)["entry"]] == ["201", "201"]
    oid = _xml(reply)["entry"][1]["response"]["location"].split("/")[1]
    obs = (await client.get(f"Observation/{oid}", headers=JSON)).content
    assert b'"value":62.50' in obs  # the decimal's precision came through XML
    checked = await client.post("Patient/$validate", content=to_xml(patient()), headers=XML)
    assert _xml(checked)["resourceType"] == "OperationOutcome"
    assert _xml(await client.get("metadata", params={"_format": "xml"}))["resourceType"] == "CapabilityStatement"


async def test_errors_are_xml_for_an_xml_client(app, client) -> None:  # type: ignore[no-untyped-def]
    missing = await client.get("Patient/nobody", headers=XML)
    assert missing.status_code == 404 and _xml(missing)["resourceType"] == "OperationOutcome"
    bad = await client.post("Patient", content=b'<Patient xmlns="http://hl7.org/fhir"><gender value="robot"/><nickname value="x"/></Patient>', headers=XML)
    assert bad.status_code == 400
    assert any("Patient.nickname" in i.get("expression", [""])[0] for i in _xml(bad)["issue"])
    async with client_for(app, None) as anonymous:
        refused = await anonymous.get("Patient", headers=XML)
    assert refused.status_code == 401 and _xml(refused)["resourceType"] == "OperationOutcome"


async def test_head_answers_as_get_without_a_body(client) -> None:  # type: ignore[no-untyped-def]
    pid = (await client.post("Patient", json=patient(), headers=JSON)).json()["id"]
    for url in (f"Patient/{pid}", "Patient", "metadata"):
        got, head = await client.get(url), await client.head(url)
        assert head.status_code == 200 and head.content == b"", url
        assert head.headers["content-type"] == got.headers["content-type"]
        assert int(head.headers["content-length"]) > 0
    assert (await client.head(f"Patient/{pid}")).headers["etag"] == 'W/"1"'
    assert (await client.head("Patient/nobody")).status_code == 404


async def test_gzip_when_asked(client) -> None:  # type: ignore[no-untyped-def]
    for _ in range(5):
        await client.post("Patient", json=patient(), headers=JSON)
    plain = await client.get("Patient", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    packed = await client.get("Patient", headers={"Accept-Encoding": "gzip"})
    assert packed.headers.get("content-encoding") == "gzip" and packed.json()["total"] == 5
    raw = await client.get("Patient", params={"_format": "xml"}, headers={"Accept-Encoding": "gzip"})
    assert raw.headers.get("content-encoding") == "gzip" and from_xml(raw.content)["total"] == 5


async def test_a_body_without_content_type_is_415(client) -> None:  # type: ignore[no-untyped-def]
    """What a cross-site HTML form can send (a body with no declared type) never writes."""
    pid = (await client.post("Patient", json=patient(), headers=JSON)).json()["id"]
    body = jsonio.dumps(patient())
    bundle = jsonio.dumps({"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": patient(), "request": {"method": "POST", "url": "Patient"}}]})
    patch_ = jsonio.dumps({"resourceType": "Parameters", "parameter": []})
    for method, path, content in (
        ("POST", "Patient", body), ("PUT", f"Patient/{pid}", jsonio.dumps({**patient(), "id": pid})), ("PUT", "Patient?identifier=x", body),
        ("PATCH", f"Patient/{pid}", patch_), ("POST", "", bundle), ("POST", "Patient/$validate", body),
        ("POST", "$import-bhyt", b"<GIAMDINHHS/>"), ("POST", "$import-transfer54", b"{}"),
    ):
        r = await client.request(method, path, content=content)  # httpx sends no Content-Type for raw content
        assert "content-type" not in r.request.headers
        assert r.status_code == 415, (method, path, r.status_code, r.text)
        assert issues(r.json())[0]["expression"] == ["Content-Type"], (method, path)
    assert (await client.get("Patient")).json()["total"] == 1
    assert (await client.post("Patient", content=body, headers={"Content-Type": "application/json"})).status_code == 201
