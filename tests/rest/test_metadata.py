"""The CapabilityStatement lists exactly what is implemented."""

from __future__ import annotations

import pytest

from server.fhir.resource_types import RESOURCE_TYPES

pytestmark = pytest.mark.anyio


async def test_capability_statement(client) -> None:
    r = await client.get("metadata")
    assert r.status_code == 200
    cs = r.json()
    assert cs["resourceType"] == "CapabilityStatement" and cs["fhirVersion"] == "4.0.1"
    rest = cs["rest"][0]
    # the stored types, plus the read-only conformance types served from profiles/
    assert {r["type"] for r in rest["resource"]} == set(RESOURCE_TYPES) | {"StructureDefinition", "CodeSystem", "ValueSet", "NamingSystem"}
    patient = next(r for r in rest["resource"] if r["type"] == "Patient")
    params = {p["name"] for p in patient["searchParam"]}
    assert {"identifier", "_id", "_lastUpdated", "gender"} <= params
    assert "_content" not in params  # not implemented, so not claimed
    assert "deceased" in params and "birthdate" in params and "name" in params
    assert {i["code"] for i in rest["interaction"]} == {"transaction", "batch", "history-system", "search-system"}
    assert patient["operation"][0]["name"] == "everything"
    assert "Observation:subject" in patient["searchRevInclude"]


async def test_the_capability_statement_is_valid_r4(client) -> None:
    # its invariants (cpb-*) and the searchParam types, against the official definitions it names
    from server.fhir.profiling import validate

    cs = (await client.get("metadata")).json()
    assert [i.diagnostics for i in validate(cs) if i.severity in ("error", "fatal")] == []


async def test_the_audit_trail_is_claimed_read_only(client) -> None:
    # only the server writes AuditEvents (every create/update/patch/delete is 403): not claimed
    rest = (await client.get("metadata")).json()["rest"][0]
    audit = next(r for r in rest["resource"] if r["type"] == "AuditEvent")
    assert {i["code"] for i in audit["interaction"]} == {"read", "vread", "history-instance", "history-type", "search-type"}
    assert audit["updateCreate"] is False and audit["conditionalDelete"] == "not-supported"
    assert (await client.post("AuditEvent", json={"resourceType": "AuditEvent"}, headers={"Content-Type": "application/fhir+json"})).status_code == 403
    paths = (await client.get("openapi.json")).json()["paths"]
    assert "post" not in paths["/AuditEvent"] and set(paths["/AuditEvent/{id}"]) == {"parameters", "get"}
