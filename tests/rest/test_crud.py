"""Create, read, vread, update, delete and their headers, on both stores."""

from __future__ import annotations

import asyncio

import pytest

from .helpers import JSON, expressions, issues, patient

pytestmark = pytest.mark.anyio


async def test_create_assigns_id_and_version_headers(client) -> None:
    r = await client.post("Patient", json=patient() | {"id": "client-chosen"}, headers=JSON)
    assert r.status_code == 201
    body = r.json()
    assert body["id"] != "client-chosen"  # the server ignores an id on create
    assert body["meta"]["versionId"] == "1"
    assert r.headers["ETag"] == 'W/"1"'
    assert r.headers["Location"] == f"http://testserver/fhir/Patient/{body['id']}/_history/1"
    assert r.headers["Last-Modified"].endswith("GMT")
    assert r.headers["Content-Type"].startswith("application/fhir+json")


async def test_read_vread_and_if_none_match(client) -> None:
    pid = (await client.post("Patient", json=patient(), headers=JSON)).json()["id"]
    r = await client.get(f"Patient/{pid}")
    assert r.status_code == 200 and r.json()["name"][0]["family"] == "Nguyễn"
    assert (await client.get(f"Patient/{pid}", headers={"If-None-Match": 'W/"1"'})).status_code == 304
    assert (await client.get(f"Patient/{pid}", headers={"If-None-Match": 'W/"7"'})).status_code == 200
    assert (await client.get(f"Patient/{pid}/_history/1")).json()["id"] == pid
    missing = await client.get(f"Patient/{pid}/_history/9")
    assert missing.status_code == 404 and issues(missing.json())[0]["code"] == "not-found"


async def test_unknown_resource_and_type(client) -> None:
    r = await client.get("Patient/does-not-exist")
    assert r.status_code == 404 and "not known" in issues(r.json())[0]["diagnostics"]
    r = await client.get("Spaceship/1")
    assert r.status_code == 404 and "Spaceship" in issues(r.json())[0]["diagnostics"]


async def test_update_makes_versions_and_update_as_create(client) -> None:
    r = await client.put("Patient/vn-1", json=patient() | {"id": "vn-1"}, headers=JSON)
    assert r.status_code == 201 and r.json()["meta"]["versionId"] == "1"
    r = await client.put("Patient/vn-1", json=patient(family="Trần") | {"id": "vn-1"}, headers=JSON)
    assert r.status_code == 200 and r.headers["ETag"] == 'W/"2"'
    assert (await client.get("Patient/vn-1/_history/1")).json()["name"][0]["family"] == "Nguyễn"
    assert (await client.get("Patient/vn-1")).json()["name"][0]["family"] == "Trần"


async def test_update_with_identical_content_makes_no_new_version(client) -> None:
    await client.put("Patient/same", json=patient() | {"id": "same"}, headers=JSON)
    r = await client.put("Patient/same", json=patient() | {"id": "same"}, headers=JSON)
    assert r.status_code == 200 and r.headers["ETag"] == 'W/"1"'


async def test_update_id_rules(client) -> None:
    r = await client.put("Patient/a1", json=patient() | {"id": "b2"}, headers=JSON)
    assert r.status_code == 400 and "Patient.id" in expressions(r.json())
    r = await client.put("Patient/a1", json=patient(), headers=JSON)
    assert r.status_code == 400 and "Patient.id" in expressions(r.json())
    r = await client.put("Patient/a1", json=patient() | {"id": "a1", "resourceType": "Observation"}, headers=JSON)
    assert r.status_code == 400
    r = await client.put("Patient/bad$id", json=patient() | {"id": "bad$id"}, headers=JSON)
    assert r.status_code == 400
    assert (await client.get("Patient/a1")).status_code == 404


async def test_delete_then_gone_history_kept_and_recreate(client) -> None:
    await client.put("Patient/d1", json=patient() | {"id": "d1"}, headers=JSON)
    r = await client.delete("Patient/d1")
    assert r.status_code == 200 and issues(r.json())[0]["severity"] == "information"
    assert r.headers["ETag"] == 'W/"2"'
    gone = await client.get("Patient/d1")
    assert gone.status_code == 410 and issues(gone.json())[0]["code"] == "deleted"
    assert (await client.get("Patient/d1/_history/1")).status_code == 200
    assert (await client.get("Patient/d1/_history/2")).status_code == 410
    history = (await client.get("Patient/d1/_history")).json()
    assert [e["request"]["method"] for e in history["entry"]] == ["DELETE", "PUT"]
    again = await client.delete("Patient/d1")  # deleting twice makes no new version
    assert again.status_code == 200 and "Nothing to delete" in issues(again.json())[0]["diagnostics"]
    r = await client.put("Patient/d1", json=patient() | {"id": "d1"}, headers=JSON)
    assert r.status_code == 201 and r.json()["meta"]["versionId"] == "3"


async def test_delete_minimal_is_204(client) -> None:
    pid = (await client.post("Patient", json=patient(), headers=JSON)).json()["id"]
    r = await client.delete(f"Patient/{pid}", headers={"Prefer": "return=minimal"})
    assert r.status_code == 204 and r.content == b""


async def test_prefer_return(client) -> None:
    r = await client.post("Patient", json=patient(), headers=JSON | {"Prefer": "return=minimal"})
    assert r.status_code == 201 and r.content == b"" and "Location" in r.headers
    r = await client.post("Patient", json=patient(), headers=JSON | {"Prefer": "return=OperationOutcome"})
    assert r.status_code == 201 and r.json()["resourceType"] == "OperationOutcome"
    r = await client.post("Patient", json=patient(), headers=JSON | {"Prefer": "return=representation"})
    assert r.json()["resourceType"] == "Patient"


async def test_if_match(client) -> None:
    await client.put("Patient/m1", json=patient() | {"id": "m1"}, headers=JSON)
    r = await client.put("Patient/m1", json=patient(family="Lê") | {"id": "m1"}, headers=JSON | {"If-Match": 'W/"2"'})
    assert r.status_code == 412 and issues(r.json())[0]["code"] == "conflict"
    r = await client.put("Patient/m1", json=patient(family="Lê") | {"id": "m1"}, headers=JSON | {"If-Match": 'W/"1"'})
    assert r.status_code == 200
    r = await client.delete("Patient/m1", headers={"If-Match": 'W/"1"'})
    assert r.status_code == 412
    r = await client.put("Patient/m1", json=patient() | {"id": "m1"}, headers=JSON | {"If-Match": "nonsense"})
    assert r.status_code == 400


async def test_concurrent_if_match_updates_exactly_one_wins(client) -> None:
    await client.put("Patient/race", json=patient() | {"id": "race"}, headers=JSON)

    async def attempt(n: int) -> int:
        body = patient(given=f"Người {n}") | {"id": "race"}
        return (await client.put("Patient/race", json=body, headers=JSON | {"If-Match": 'W/"1"'})).status_code

    statuses = await asyncio.gather(*(attempt(n) for n in range(12)))
    assert sorted(statuses) == [200] + [412] * 11
    history = (await client.get("Patient/race/_history")).json()
    assert history["total"] == 2


async def test_concurrent_updates_without_if_match_lose_nothing(client) -> None:
    await client.put("Patient/many", json=patient() | {"id": "many"}, headers=JSON)

    async def attempt(n: int) -> int:
        body = patient(given=f"Người {n}") | {"id": "many"}
        return (await client.put("Patient/many", json=body, headers=JSON)).status_code

    statuses = await asyncio.gather(*(attempt(n) for n in range(8)))
    assert all(s == 200 for s in statuses)
    assert (await client.get("Patient/many")).json()["meta"]["versionId"] == "9"


async def test_a_write_that_cannot_get_the_store_is_503_with_retry_after(tmp_path) -> None:
    """Another process holding SQLite's write lock past the timeout: 503, Retry-After, nothing
    written; reads go on meanwhile. (SQLite only: MongoDB has no file lock to hold.)"""
    import sqlite3

    from server.app import create_app
    from server.storage.sqlite.store import SqliteStore

    from .conftest import SMALL_LIMITS, client_for, token_for

    store = SqliteStore(str(tmp_path / "busy.db"), lock_timeout=0.2)
    await store.open()
    app = create_app(SMALL_LIMITS, store)
    other = None
    try:
        async with client_for(app, await token_for(app)) as client:
            other = sqlite3.connect(store.path, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")
            r = await client.post("Patient", json=patient(), headers=JSON)
            assert r.status_code == 503 and r.headers["Retry-After"] == "1"
            assert issues(r.json())[0]["code"] == "transient"
            assert (await client.get("Patient")).status_code == 200
            other.execute("ROLLBACK")
            assert (await client.post("Patient", json=patient(), headers=JSON)).status_code == 201
    finally:
        if other is not None:
            other.close()
        await app.state.audit.stop()
        await store.close()


async def test_read_with_elements_and_summary(client) -> None:  # type: ignore[no-untyped-def]
    """_elements and _summary on read trim as on search, and tag the result SUBSETTED."""
    created = (await client.post("Patient", json={**patient(), "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">An</div>'}}, headers=JSON)).json()
    pid = created["id"]

    def subsetted(body: dict) -> bool:  # type: ignore[type-arg]
        return any(t.get("code") == "SUBSETTED" for t in body.get("meta", {}).get("tag", []))

    for url in (f"Patient/{pid}", f"Patient/{pid}/_history/1"):
        r = await client.get(url, params={"_elements": "name"})
        assert r.status_code == 200 and r.headers["etag"] == 'W/"1"'
        body = r.json()
        assert set(body) == {"resourceType", "id", "meta", "name"} and subsetted(body), body
    text = (await client.get(f"Patient/{pid}", params={"_summary": "text"})).json()
    assert set(text) == {"resourceType", "id", "meta", "text"} and subsetted(text)
    data = (await client.get(f"Patient/{pid}", params={"_summary": "data"})).json()
    assert "text" not in data and "birthDate" in data and subsetted(data)
    summary = (await client.get(f"Patient/{pid}", params={"_summary": "true"})).json()
    assert "text" not in summary and "name" in summary and subsetted(summary)
    whole = (await client.get(f"Patient/{pid}", params={"_summary": "false"})).json()
    assert "text" in whole and not subsetted(whole)
    for value in ("count", "nonsense"):
        r = await client.get(f"Patient/{pid}", params={"_summary": value})
        assert r.status_code == 400 and "_summary" in expressions(r.json()), value
