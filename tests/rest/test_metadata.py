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
    assert {r["type"] for r in rest["resource"]} == set(RESOURCE_TYPES)
    patient = next(r for r in rest["resource"] if r["type"] == "Patient")
    params = {p["name"] for p in patient["searchParam"]}
    assert {"identifier", "_id", "_lastUpdated", "gender"} <= params
    assert "deceased" not in params  # its expression is not indexed, so it is not claimed
    assert {i["code"] for i in rest["interaction"]} == {"transaction", "batch", "history-system", "search-system"}
    assert patient["operation"][0]["name"] == "everything"
    assert "Observation:subject" in patient["searchRevInclude"]
