"""Conditional create, update and delete; identifier and _id search."""

from __future__ import annotations

import pytest

from .helpers import JSON, issues, patient

pytestmark = pytest.mark.anyio


async def test_conditional_create(client) -> None:
    h = JSON | {"If-None-Exist": "identifier=urn:test:cccd|001085000001"}
    first = await client.post("Patient", json=patient("001085000001"), headers=h)
    assert first.status_code == 201
    second = await client.post("Patient", json=patient("001085000001"), headers=h)
    assert second.status_code == 200 and second.json()["id"] == first.json()["id"]
    assert (await client.get("Patient", params={"identifier": "001085000001"})).json()["total"] == 1
    await client.post("Patient", json=patient("001085000001"), headers=JSON)  # a duplicate made without condition
    third = await client.post("Patient", json=patient("001085000001"), headers=h)
    assert third.status_code == 412


async def test_conditional_create_rejects_unknown_criteria(client) -> None:
    r = await client.post("Patient", json=patient(), headers=JSON | {"If-None-Exist": "favourite-colour=blue"})
    assert r.status_code == 400 and "favourite-colour" in issues(r.json())[0]["diagnostics"]


async def test_conditional_update(client) -> None:
    url = "Patient?identifier=urn:test:cccd|001085000002"
    created = await client.put(url, json=patient("001085000002"), headers=JSON)
    assert created.status_code == 201
    pid = created.json()["id"]
    updated = await client.put(url, json=patient("001085000002", family="Phạm"), headers=JSON)
    assert updated.status_code == 200 and updated.json()["id"] == pid and updated.json()["meta"]["versionId"] == "2"
    wrong_id = await client.put(url, json=patient("001085000002") | {"id": "other"}, headers=JSON)
    assert wrong_id.status_code == 400
    await client.post("Patient", json=patient("001085000002"), headers=JSON)
    assert (await client.put(url, json=patient("001085000002"), headers=JSON)).status_code == 412


async def test_conditional_update_by_id_criteria(client) -> None:
    await client.put("Patient/c9", json=patient() | {"id": "c9"}, headers=JSON)
    r = await client.put("Patient?_id=c9", json=patient(family="Vũ"), headers=JSON)
    assert r.status_code == 200 and r.json()["id"] == "c9"


async def test_conditional_delete(client) -> None:
    await client.post("Patient", json=patient("001085000003"), headers=JSON)
    r = await client.delete("Patient", params={"identifier": "001085000003"})
    assert r.status_code == 200
    assert (await client.get("Patient", params={"identifier": "001085000003"})).json()["total"] == 0
    none = await client.delete("Patient", params={"identifier": "001085000003"})
    assert none.status_code == 200 and "Nothing to delete" in issues(none.json())[0]["diagnostics"]
    await client.post("Patient", json=patient("001085000004"), headers=JSON)
    await client.post("Patient", json=patient("001085000004"), headers=JSON)
    assert (await client.delete("Patient", params={"identifier": "001085000004"})).status_code == 412
    assert (await client.delete("Patient")).status_code == 400


async def test_identifier_token_forms(client) -> None:
    await client.post("Patient", json=patient("001085000005"), headers=JSON)
    other = patient("001085000005")
    other["identifier"] = [{"value": "001085000005"}]
    await client.post("Patient", json=other, headers=JSON)
    total = lambda r: r.json()["total"]  # noqa: E731
    assert total(await client.get("Patient", params={"identifier": "001085000005"})) == 2
    assert total(await client.get("Patient", params={"identifier": "urn:test:cccd|001085000005"})) == 1
    assert total(await client.get("Patient", params={"identifier": "|001085000005"})) == 1
    assert total(await client.get("Patient", params={"identifier": "urn:test:cccd|"})) == 1
    assert total(await client.get("Patient", params={"identifier": "urn:other|001085000005"})) == 0
    assert total(await client.get("Patient", params={"identifier": "x,001085000005"})) == 2


async def test_search_reports_or_rejects_unknown_parameters(client) -> None:
    await client.post("Patient", json=patient(), headers=JSON)
    lenient = (await client.get("Patient", params={"shoe-size": "42"}, headers={"Prefer": "handling=lenient"})).json()
    outcome = [e for e in lenient["entry"] if e["search"]["mode"] == "outcome"]
    assert outcome and "shoe-size" in outcome[0]["resource"]["issue"][0]["diagnostics"]
    strict = await client.get("Patient", params={"shoe-size": "42"})  # strict is the default
    assert strict.status_code == 400


async def test_search_paging_links(client) -> None:
    for n in range(7):
        await client.post("Patient", json=patient(f"0010850001{n:02d}"), headers=JSON)
    page = (await client.get("Patient", params={"_count": "3"})).json()
    seen = [e["resource"]["id"] for e in page["entry"]]
    while (nxt := next((link["url"] for link in page["link"] if link["relation"] == "next"), None)) is not None:
        page = (await client.get(nxt)).json()
        seen += [e["resource"]["id"] for e in page["entry"] if e["search"]["mode"] == "match"]
    assert len(seen) == 7 and len(set(seen)) == 7
    assert (await client.get("Patient", params={"_count": "51"})).status_code == 400


async def test_paging_without_total(client) -> None:
    for n in range(4):
        await client.post("Patient", json=patient(f"0010850003{n:02d}"), headers=JSON)
    page = (await client.get("Patient", params={"_count": "3", "_total": "none"})).json()
    assert "total" not in page
    nxt = next(link["url"] for link in page["link"] if link["relation"] == "next")
    assert "_total=none" in nxt
    rest = (await client.get(nxt)).json()
    assert len(rest["entry"]) == 1 and not any(link["relation"] == "next" for link in rest["link"])
    assert (await client.get("Patient", params={"_count": "0"})).json()["entry"] == []


async def test_if_none_exist_accepts_type_prefixed_criteria(client) -> None:
    h = JSON | {"If-None-Exist": "Patient?identifier=001085000401"}
    first = await client.post("Patient", json=patient("001085000401"), headers=h)
    again = await client.post("Patient", json=patient("001085000401"), headers=h)
    assert (first.status_code, again.status_code) == (201, 200) and again.json()["id"] == first.json()["id"]
