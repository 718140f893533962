"""$meta, $meta-add, $meta-delete: no new version, the search index follows, guarded and audited."""

from __future__ import annotations

import pytest

from .conftest import client_for, token_for
from .helpers import JSON, expressions, patient
from .test_audit import _events

pytestmark = pytest.mark.anyio

TAG_B = {"system": "urn:test:tags", "code": "b"}
PROFILE = "http://example.org/StructureDefinition/p"


def meta_param(**meta: object) -> dict:  # type: ignore[type-arg]
    return {"resourceType": "Parameters", "parameter": [{"name": "meta", "valueMeta": meta}]}


def returned(r) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["resourceType"] == "Parameters" and body["parameter"][0]["name"] == "return"
    return body["parameter"][0]["valueMeta"]


async def test_meta_add_and_delete_change_meta_without_a_new_version(app, client) -> None:  # type: ignore[no-untyped-def]
    pid = (await client.post("Patient", json={**patient(), "meta": {"tag": [{"system": "urn:test:tags", "code": "a"}]}}, headers=JSON)).json()["id"]
    meta = returned(await client.post(f"Patient/{pid}/$meta-add", json=meta_param(tag=[TAG_B], profile=[PROFILE]), headers=JSON))
    assert TAG_B in meta["tag"] and len(meta["tag"]) == 2 and meta["profile"] == [PROFILE] and meta["versionId"] == "1"
    read = await client.get(f"Patient/{pid}")
    assert read.headers["etag"] == 'W/"1"' and TAG_B in read.json()["meta"]["tag"]
    assert (await client.get(f"Patient/{pid}/_history")).json()["total"] == 1
    assert TAG_B in (await client.get(f"Patient/{pid}/_history/1")).json()["meta"]["tag"]
    assert (await client.get("Patient", params={"_tag": "urn:test:tags|b"})).json()["total"] == 1
    assert (await client.get("Patient", params={"_profile": PROFILE})).json()["total"] == 1
    for url in (f"Patient/{pid}/$meta", "Patient/$meta", "$meta"):
        got = returned(await client.get(url))
        assert TAG_B in got["tag"] and got["profile"] == [PROFILE], url
    assert returned(await client.post("Patient/$meta", headers=JSON))["profile"] == [PROFILE]
    meta = returned(await client.post(f"Patient/{pid}/$meta-delete", json=meta_param(tag=[TAG_B], profile=[PROFILE]), headers=JSON))
    assert meta["tag"] == [{"system": "urn:test:tags", "code": "a"}] and "profile" not in meta
    assert (await client.get("Patient", params={"_tag": "urn:test:tags|b"})).json()["total"] == 0
    assert (await client.get(f"Patient/{pid}")).headers["etag"] == 'W/"1"'
    events = await _events(app)  # each change is one AuditEvent, written with it
    assert sum("$meta-add" in str(e) for e in events) == 1 and sum("$meta-delete" in str(e) for e in events) == 1


async def test_meta_errors(client) -> None:  # type: ignore[no-untyped-def]
    pid = (await client.post("Patient", json=patient(), headers=JSON)).json()["id"]
    assert (await client.get("Patient/nobody/$meta")).status_code == 404
    assert (await client.post("Patient/nobody/$meta-add", json=meta_param(tag=[TAG_B]), headers=JSON)).status_code == 404
    r = await client.post(f"Patient/{pid}/$meta-add", json={"resourceType": "Parameters"}, headers=JSON)
    assert r.status_code == 400 and "Parameters.parameter" in expressions(r.json())
    assert (await client.post(f"Patient/{pid}/$meta-add", content=b"{}")).status_code == 415
    assert (await client.get("Foo/$meta")).status_code == 404
    await client.delete(f"Patient/{pid}")
    assert (await client.post(f"Patient/{pid}/$meta-add", json=meta_param(tag=[TAG_B]), headers=JSON)).status_code == 410


async def test_a_patient_token_neither_reads_nor_changes_another_patients_meta(app, client) -> None:  # type: ignore[no-untyped-def]
    secret = {"system": "urn:test:tags", "code": "only-b-knows"}
    for pid in ("pat-a", "pat-b"):
        await client.put(f"Patient/{pid}", json={**patient(cccd=f"0{pid}"), "id": pid, "meta": {"tag": [{"system": "urn:test:tags", "code": pid}]}}, headers=JSON)
    await client.post("Patient/pat-b/$meta-add", json=meta_param(tag=[secret]), headers=JSON)
    async with client_for(app, await token_for(app, "patient/*.cruds", patient="pat-a")) as a:
        assert (await a.get("Patient/pat-b/$meta")).status_code == 404
        r = await a.post("Patient/pat-b/$meta-add", json=meta_param(tag=[TAG_B]), headers=JSON)
        assert r.status_code in (403, 404) and "only-b-knows" not in r.text
        assert (await a.post("Patient/pat-b/$meta-delete", json=meta_param(tag=[secret]), headers=JSON)).status_code in (403, 404)
        for url in ("Patient/$meta", "$meta"):
            r = await a.get(url)
            assert r.status_code == 200 and "only-b-knows" not in r.text and "pat-b" not in r.text, url
            assert "pat-a" in r.text
        assert "pat-a" in str(returned(await a.post("Patient/pat-a/$meta-add", json=meta_param(tag=[TAG_B]), headers=JSON)))
    meta_b = returned(await client.get("Patient/pat-b/$meta"))
    assert secret in meta_b["tag"] and TAG_B not in meta_b["tag"]


async def test_the_capability_statement_lists_them(client) -> None:  # type: ignore[no-untyped-def]
    rest = (await client.get("metadata")).json()["rest"][0]
    patient_ops = {o["name"] for r in rest["resource"] if r["type"] == "Patient" for o in r["operation"]}
    assert {"meta", "meta-add", "meta-delete"} <= patient_ops
    assert "meta" in {o["name"] for o in rest["operation"]}
