"""Transaction (all or nothing, references resolved) and batch (independent entries)."""

from __future__ import annotations

import pytest

from .helpers import JSON, expressions, issues, patient

pytestmark = pytest.mark.anyio

P = "urn:uuid:6f1c1c1e-0000-4000-8000-000000000001"


def tx(*entries: dict, type_: str = "transaction") -> dict:
    return {"resourceType": "Bundle", "type": type_, "entry": list(entries)}


def post(resource: dict, full_url: str | None = None, if_none_exist: str | None = None) -> dict:
    entry: dict = {"resource": resource, "request": {"method": "POST", "url": resource["resourceType"]}}
    if full_url:
        entry["fullUrl"] = full_url
    if if_none_exist:
        entry["request"]["ifNoneExist"] = if_none_exist
    return entry


def encounter(subject: str) -> dict:
    return {"resourceType": "Encounter", "status": "finished", "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"}, "subject": {"reference": subject}}


async def test_transaction_resolves_urn_uuid_references(client) -> None:
    r = await client.post("", json=tx(post(encounter(P)), post(patient(), P)), headers=JSON)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["type"] == "transaction-response"
    statuses = [e["response"]["status"] for e in body["entry"]]
    assert statuses == ["201 Created", "201 Created"]
    enc_loc, pat_loc = (e["response"]["location"] for e in body["entry"])
    enc = (await client.get(enc_loc.split("/_history")[0])).json()
    assert enc["subject"]["reference"] == pat_loc.split("/_history")[0]


async def test_transaction_conditional_create_and_conditional_reference(client) -> None:
    cond = "identifier=urn:test:cccd|001085000777"
    bundle = tx(
        post(encounter("Patient?identifier=urn:test:cccd|001085000777")),
        post(patient("001085000777"), P, if_none_exist=cond),
    )
    first = (await client.post("", json=bundle, headers=JSON)).json()
    second = (await client.post("", json=bundle, headers=JSON)).json()
    assert first["entry"][1]["response"]["status"] == "201 Created"
    assert second["entry"][1]["response"]["status"] == "200 OK"  # matched, not created again
    assert (await client.get("Patient", params={"identifier": "001085000777"})).json()["total"] == 1
    assert (await client.get("Encounter")).json()["total"] == 2


async def test_conditional_reference_with_no_match_fails_whole_transaction(client) -> None:
    r = await client.post("", json=tx(post(patient()), post(encounter("Patient?identifier=nobody"))), headers=JSON)
    assert r.status_code == 412
    assert "entry 1" in issues(r.json())[0]["diagnostics"]
    assert (await client.get("Patient")).json()["total"] == 0


async def test_failed_entry_rolls_back_everything_and_is_named(client) -> None:
    await client.put("Patient/keep", json=patient() | {"id": "keep"}, headers=JSON)
    await client.put("Patient/keep2", json=patient() | {"id": "keep2"}, headers=JSON)
    bundle = tx(
        post(patient("001085000901")),
        {"resource": patient(family="Đổi") | {"id": "keep"}, "request": {"method": "PUT", "url": "Patient/keep"}},
        {"request": {"method": "DELETE", "url": "Patient/keep2"}},
        {"resource": patient() | {"id": "x1"}, "request": {"method": "PUT", "url": "Patient/x1", "ifMatch": 'W/"4"'}},
    )
    r = await client.post("", json=bundle, headers=JSON)
    assert r.status_code == 412
    assert "entry 3" in issues(r.json())[0]["diagnostics"]
    assert (await client.get("Patient", params={"identifier": "001085000901"})).json()["total"] == 0
    kept = await client.get("Patient/keep")
    assert kept.status_code == 200 and kept.json()["meta"]["versionId"] == "1"
    assert (await client.get("Patient/keep2")).status_code == 200


async def test_invalid_entries_all_reported_nothing_stored(client) -> None:
    bad = patient() | {"gender": "nam", "birthDate": "1985-02-30x"}
    bundle = tx(post(patient("001085000902")), post(bad), post({"resourceType": "Observation", "status": "final"}))
    r = await client.post("", json=bundle, headers=JSON)
    assert r.status_code in (400, 422)
    where = expressions(r.json())
    assert "Bundle.entry[1].resource.gender" in where
    assert "Bundle.entry[1].resource.birthDate" in where
    assert "Bundle.entry[2].resource.code" in where
    assert (await client.get("Patient")).json()["total"] == 0


async def test_processing_order_delete_before_create(client) -> None:
    await client.put("Patient/o1", json=patient("001085000903") | {"id": "o1"}, headers=JSON)
    bundle = tx(
        post(patient("001085000903"), if_none_exist="identifier=001085000903"),
        {"request": {"method": "DELETE", "url": "Patient/o1"}},
    )
    body = (await client.post("", json=bundle, headers=JSON)).json()
    assert body["entry"][0]["response"]["status"] == "201 Created"  # the DELETE ran first
    assert body["entry"][1]["response"]["status"] == "204 No Content"


async def test_a_transaction_changes_a_resource_once(client) -> None:
    both = tx({"resource": patient() | {"id": "k"}, "request": {"method": "PUT", "url": "Patient/k"}}, {"request": {"method": "DELETE", "url": "Patient/k"}})
    r = await client.post("", json=both, headers=JSON)
    assert r.status_code == 400 and "only once" in issues(r.json())[0]["diagnostics"]


async def test_transaction_get_entries_and_duplicates(client) -> None:
    await client.put("Patient/g1", json=patient() | {"id": "g1"}, headers=JSON)
    body = (await client.post("", json=tx({"request": {"method": "GET", "url": "Patient/g1"}}), headers=JSON)).json()
    assert body["entry"][0]["resource"]["id"] == "g1"
    dup = tx(post(patient(), P), post(patient(), P))
    assert (await client.post("", json=dup, headers=JSON)).status_code == 400


async def test_dangling_urn_uuid_reference_fails(client) -> None:
    r = await client.post("", json=tx(post(encounter("urn:uuid:0000-missing"))), headers=JSON)
    assert r.status_code == 404 and "urn:uuid:0000-missing" in issues(r.json())[0]["diagnostics"]


async def test_batch_entries_are_independent(client) -> None:
    bundle = tx(
        post(patient("001085000904")),
        post({"resourceType": "Patient", "gender": "nam"}),
        {"request": {"method": "GET", "url": "Patient/missing"}},
        {"request": {"method": "PATCH", "url": "Patient/x"}},
        type_="batch",
    )
    r = await client.post("", json=bundle, headers=JSON)
    assert r.status_code == 200
    statuses = [e["response"]["status"][:3] for e in r.json()["entry"]]
    assert statuses == ["201", "422", "404", "422"]
    assert r.json()["entry"][1]["response"]["outcome"]["resourceType"] == "OperationOutcome"
    assert (await client.get("Patient", params={"identifier": "001085000904"})).json()["total"] == 1


async def test_bundle_envelope_errors(client) -> None:
    assert (await client.post("", json={"resourceType": "Bundle", "type": "collection"}, headers=JSON)).status_code == 400
    assert (await client.post("", json=patient(), headers=JSON)).status_code == 400
    too_many = tx(*[post(patient()) for _ in range(301)])
    assert (await client.post("", json=too_many, headers=JSON)).status_code == 413


async def test_transaction_prefer_representation(client) -> None:
    body = (await client.post("", json=tx(post(patient())), headers=JSON | {"Prefer": "return=representation"})).json()
    assert body["entry"][0]["resource"]["resourceType"] == "Patient"


async def test_returned_entries_have_absolute_full_urls(client) -> None:  # type: ignore[no-untyped-def]
    """R4: a fullUrl is an absolute URL; a batch's search results and a transaction's returned
    resources carry the server's base (so $validate of the response has no fullUrl error)."""
    from server.fhir.profiling import validate

    reply = await client.post("", json={"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:p", "resource": {"resourceType": "Patient", "name": [{"family": "Lê"}]}, "request": {"method": "POST", "url": "Patient"}}]},
        headers={"Prefer": "return=representation"})
    created = reply.json()["entry"][0]
    assert created["fullUrl"].startswith("http://testserver/fhir/Patient/"), created["fullUrl"]
    batch = (await client.post("", json={"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": "Patient?family=Lê"}}]})).json()
    found = batch["entry"][0]["resource"]["entry"]
    assert found and all(e["fullUrl"].startswith("http://testserver/fhir/Patient/") for e in found)
    assert not [i for i in validate(batch) if i.severity == "error" and "fullUrl" in i.diagnostics]


async def test_an_entry_the_server_cannot_route_has_one_error_and_the_direct_status(client) -> None:  # type: ignore[no-untyped-def]
    """An operation URL gets one clear error (not also a resourceType mismatch); an unsupported
    type is 404 in a batch entry as on a direct request."""
    lookup = {"resourceType": "Parameters", "parameter": [{"name": "code", "valueCode": "male"}]}
    assert (await client.get("Foo/1")).status_code == 404
    batch = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": lookup, "request": {"method": "POST", "url": "ValueSet/$lookup"}},
        {"request": {"method": "GET", "url": "Foo/1"}},
        {"resource": {"resourceType": "Foo"}, "request": {"method": "POST", "url": "Foo"}},
    ]}
    r = await client.post("", json=batch, headers=JSON)
    assert r.status_code == 200
    responses = [e["response"] for e in r.json()["entry"]]
    assert [x["status"].split()[0] for x in responses] == ["400", "404", "404"]
    for x in responses:
        found = x["outcome"]["issue"]
        assert len(found) == 1 and found[0]["code"] == "not-supported", found
    assert "$lookup" in responses[0]["outcome"]["issue"][0]["diagnostics"]
    r = await client.post("", json={**batch, "type": "transaction", "entry": batch["entry"][1:]}, headers=JSON)
    assert r.status_code == 404 and len(issues(r.json())) == 2


async def test_a_batch_reads_and_searches_conformance_resources_as_a_direct_request_does(client) -> None:  # type: ignore[no-untyped-def]
    """The read-only conformance resources (served from profiles/) answer inside a batch what they
    answer directly: 200 with the resource, a searchset, or 404 for an unknown id."""
    direct = await client.get("ValueSet/vs-t54-gender")
    assert direct.status_code == 200
    batch = (await client.post("", json={"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": "ValueSet/vs-t54-gender"}},
        {"request": {"method": "GET", "url": f"ValueSet?url={direct.json()['url']}"}},
        {"request": {"method": "GET", "url": "ValueSet/no-such-set"}},
        {"request": {"method": "DELETE", "url": "ValueSet/vs-t54-gender"}}]})).json()
    read, search, missing, delete = batch["entry"]
    assert read["response"]["status"].startswith("200") and read["resource"] == direct.json()
    assert search["response"]["status"].startswith("200") and [e["resource"]["id"] for e in search["resource"]["entry"]] == ["vs-t54-gender"]
    assert missing["response"]["status"].startswith("404") and (await client.get("ValueSet/no-such-set")).status_code == 404
    assert delete["response"]["status"].startswith("405") and (await client.delete("ValueSet/vs-t54-gender")).status_code == 405
