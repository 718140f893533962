"""History at instance, type and system level with _since, _at, _count and paging."""

from __future__ import annotations

import asyncio

import pytest

from .helpers import JSON, patient

pytestmark = pytest.mark.anyio


async def _follow(client, url: str) -> list[dict]:  # type: ignore[no-untyped-def]
    entries: list[dict] = []
    page = (await client.get(url)).json()
    entries += page["entry"]
    while (nxt := next((link["url"] for link in page["link"] if link["relation"] == "next"), None)) is not None:
        page = (await client.get(nxt)).json()
        entries += page["entry"]
    return entries


async def test_instance_history_newest_first(client) -> None:
    for family in ("Một", "Hai", "Ba"):
        await client.put("Patient/h1", json=patient(family=family) | {"id": "h1"}, headers=JSON)
    bundle = (await client.get("Patient/h1/_history")).json()
    assert bundle["type"] == "history" and bundle["total"] == 3
    assert [e["resource"]["meta"]["versionId"] for e in bundle["entry"]] == ["3", "2", "1"]
    assert bundle["entry"][2]["response"]["status"].startswith("201")
    assert (await client.get("Patient/nope/_history")).status_code == 404


async def test_type_and_system_history_and_paging_stable_under_writes(client) -> None:
    for n in range(6):
        await client.post("Patient", json=patient(f"00108500020{n}"), headers=JSON)
    await client.post("Observation", json={"resourceType": "Observation", "status": "final", "code": {"text": "x"}}, headers=JSON)
    first = (await client.get("Patient/_history", params={"_count": "4"})).json()
    assert first["total"] == 6 and len(first["entry"]) == 4
    await client.post("Patient", json=patient("001085000299"), headers=JSON)  # written between pages
    nxt = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = (await client.get(nxt)).json()
    ids = [e["resource"]["id"] for e in first["entry"] + second["entry"]]
    assert len(ids) == 6 and len(set(ids)) == 6
    system = await _follow(client, "_history?_count=3")
    assert {e["request"]["url"].split("/")[0] for e in system} >= {"Patient", "Observation"}
    assert len(system) == 8


async def test_since_and_at(client) -> None:
    await client.put("Patient/t1", json=patient(family="Cũ") | {"id": "t1"}, headers=JSON)
    v1 = (await client.get("Patient/t1")).json()["meta"]["lastUpdated"]
    await asyncio.sleep(0.01)
    await client.put("Patient/t1", json=patient(family="Mới") | {"id": "t1"}, headers=JSON)
    v2 = (await client.get("Patient/t1")).json()["meta"]["lastUpdated"]
    since = (await client.get("Patient/t1/_history", params={"_since": v2})).json()
    assert [e["resource"]["meta"]["versionId"] for e in since["entry"]] == ["2"]
    at = (await client.get("Patient/t1/_history", params={"_at": v1})).json()
    assert [e["resource"]["meta"]["versionId"] for e in at["entry"]] == ["1"]
    assert (await client.get("Patient/t1/_history", params={"_since": "yesterday"})).status_code == 400
    assert (await client.get("Patient/t1/_history", params={"_count": "x"})).status_code == 400
    assert (await client.get("Patient/t1/_history", params={"_sort": "x"})).status_code == 400
