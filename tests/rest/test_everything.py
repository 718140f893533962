"""``Patient/$everything`` (type level) and ``Patient/{id}/$everything`` walks, on both stores."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .conftest import SMALL_LIMITS
from .helpers import JSON, patient

pytestmark = pytest.mark.anyio


@pytest.fixture
async def app(store):  # type: ignore[no-untyped-def]
    """The test app with the reference check on write off: the records below create a Practitioner
    after the resources that refer to it, on purpose (see ``records``)."""
    from dataclasses import replace

    from server.app import create_app

    application = create_app(replace(SMALL_LIMITS, integrity_on_write=False), store)
    yield application
    await application.state.audit.stop()

LOINC = "http://loinc.org"


async def put(client: httpx.AsyncClient, resource: dict[str, Any]) -> None:
    r = await client.put(f"{resource['resourceType']}/{resource['id']}", json=resource, headers=JSON)
    assert r.status_code in (200, 201), r.text


async def walk(client: httpx.AsyncClient, url: str, **params: str) -> list[tuple[str, str]]:
    """``(Type/id, mode)`` of every entry of every page, following ``next`` links."""
    page = await client.get(url, params=params)
    assert page.status_code == 200, page.text
    out: list[tuple[str, str]] = []
    while True:
        body = page.json()
        out += [(f"{e['resource']['resourceType']}/{e['resource']['id']}", e["search"]["mode"]) for e in body.get("entry", [])]
        nxt = next((link["url"] for link in body["link"] if link["relation"] == "next"), None)
        if nxt is None:
            return out
        page = await client.get(nxt)
        assert page.status_code == 200, page.text


@pytest.fixture
async def records(client):  # type: ignore[no-untyped-def]
    """Two patients; each with an Encounter, Observations referring to it, a shared Organization
    and Practitioner, and one Practitioner of each patient's own (created late, after the
    resources referring to it, so a per-page include would meet it before its match)."""
    await put(client, {"resourceType": "Organization", "id": "bv", "name": "Bệnh viện"})
    await put(client, {"resourceType": "Practitioner", "id": "bs", "name": [{"family": "Trần"}]})
    for pid in ("p1", "p2"):
        await put(client, patient(f"00108500{pid[-1]}000") | {"id": pid, "managingOrganization": {"reference": "Organization/bv"}})
        await put(client, {"resourceType": "Encounter", "id": f"{pid}-enc", "status": "finished", "class": {"code": "AMB"},
                           "subject": {"reference": f"Patient/{pid}"}, "serviceProvider": {"reference": "Organization/bv"}})
        for n in range(7):
            await put(client, {"resourceType": "Observation", "id": f"{pid}-o{n}", "status": "final", "code": {"coding": [{"system": LOINC, "code": "29463-7"}]},
                               "subject": {"reference": f"Patient/{pid}"}, "encounter": {"reference": f"Encounter/{pid}-enc"},
                               "performer": [{"reference": "Practitioner/bs"}, {"reference": f"Practitioner/{pid}-dr"}]})
    for pid in ("p1", "p2"):
        await put(client, {"resourceType": "Practitioner", "id": f"{pid}-dr", "name": [{"family": "Lê"}]})
    return client


def _compartment(pid: str) -> set[str]:
    return {f"Patient/{pid}", f"Encounter/{pid}-enc"} | {f"Observation/{pid}-o{n}" for n in range(7)}


async def test_instance_walk_shows_each_resource_once(records) -> None:
    """Nine compartment resources, three referred to: with _count=5 more than two pages, each once."""
    seen = await walk(records, "Patient/p1/$everything", _count="5")
    ids = [r for r, _ in seen]
    assert len(ids) == len(set(ids)), f"repeated: {sorted(r for r in ids if ids.count(r) > 1)}"
    assert {r for r, m in seen if m == "match"} == _compartment("p1")
    assert {r for r, m in seen if m == "include"} == {"Organization/bv", "Practitioner/bs", "Practitioner/p1-dr"}
    first = (await records.get("Patient/p1/$everything", params={"_count": "5"})).json()
    assert first["total"] == 9 and len(first["entry"]) == 5


async def test_type_level_walk_covers_every_patient_once(records) -> None:
    seen = await walk(records, "Patient/$everything", _count="4")
    ids = [r for r, _ in seen]
    assert len(ids) == len(set(ids))
    assert {r for r, m in seen if m == "match"} == _compartment("p1") | _compartment("p2")
    assert {r for r, m in seen if m == "include"} == {"Organization/bv", "Practitioner/bs", "Practitioner/p1-dr", "Practitioner/p2-dr"}
    only = await walk(records, "Patient/$everything", _type="Patient,Encounter")
    assert set(only) == {("Patient/p1", "match"), ("Patient/p2", "match"), ("Encounter/p1-enc", "match"), ("Encounter/p2-enc", "match")}
    r = await records.get("Patient/$everything", params={"_type": "Nope"})
    assert r.status_code == 400


async def test_type_level_on_an_empty_store(client) -> None:
    r = await client.get("Patient/$everything")
    assert r.status_code == 200 and r.json()["total"] == 0 and not r.json().get("entry")
