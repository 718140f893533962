"""``$import-transfer54`` and ``Encounter/{id}/$transfer54`` over REST, on both stores."""

from __future__ import annotations

import pytest

from mappings.transfer54.generate import records
from mappings.transfer54.xml_form import parse_xml, write_xml
from server import jsonio

from .helpers import expressions

pytestmark = pytest.mark.anyio
RECORD = records(3, 1)[0]


def encounter_id(body: dict) -> str:
    locations = [e["response"]["location"] for e in body["entry"]]
    return next(loc for loc in locations if loc.startswith("Encounter/")).split("/")[1]


async def test_import_then_export_json_and_xml(client) -> None:
    r = await client.post("$import-transfer54", content=jsonio.dumps(RECORD), headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["type"] == "transaction-response"
    eid = encounter_id(body)
    back = await client.get(f"Encounter/{eid}/$transfer54")
    assert back.status_code == 200 and back.json() == RECORD
    xml = await client.get(f"Encounter/{eid}/$transfer54", params={"_format": "xml"})
    assert xml.headers["content-type"].startswith("application/xml") and parse_xml(xml.content) == RECORD


async def test_import_twice_changes_nothing_and_a_correction_updates_in_place(client) -> None:
    for _ in range(2):
        r = await client.post("$import-transfer54", content=write_xml(RECORD), headers={"Content-Type": "application/xml"})
        assert r.status_code == 200, r.text
    assert {e["response"]["status"] for e in r.json()["entry"]} == {"200 OK"}
    assert (await client.get("Patient")).json()["total"] == 1
    assert (await client.get("Encounter")).json()["total"] == 1
    versions = (await client.get("_history")).json()["total"]
    corrected = dict(RECORD, CHAN_DOAN_RV=RECORD["CHAN_DOAN_RV"] + " (đã sửa)")
    r = await client.post("$import-transfer54", content=jsonio.dumps(corrected), headers={"Content-Type": "application/json"})
    assert r.status_code == 200
    assert (await client.get("_history")).json()["total"] == versions + 2  # the main Condition, and the letter that carries the record
    assert (await client.get("Encounter")).json()["total"] == 1
    assert (await client.get(f"Encounter/{encounter_id(r.json())}/$transfer54")).json() == corrected


async def test_invalid_record_lists_every_problem_and_stores_nothing(client) -> None:
    bad = dict(RECORD, GIOI_TINH="9", NGAY_VAO="202502300000", FOO="x")
    del bad["HO_TEN"]
    r = await client.post("$import-transfer54", content=jsonio.dumps(bad), headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert {"CHI_TIEU_GIAYCHUYENTUYEN.GIOI_TINH", "CHI_TIEU_GIAYCHUYENTUYEN.NGAY_VAO", "CHI_TIEU_GIAYCHUYENTUYEN.FOO", "CHI_TIEU_GIAYCHUYENTUYEN.HO_TEN"} <= expressions(r.json())
    assert (await client.get("Patient")).json()["total"] == 0
    r = await client.post("$import-transfer54", content=b"<!DOCTYPE x [<!ENTITY a 'b'>]><CHI_TIEU_GIAYCHUYENTUYEN/>", headers={"Content-Type": "application/xml"})
    assert r.status_code == 400


async def test_export_of_an_encounter_that_is_not_a_transfer(client) -> None:
    r = await client.put("Encounter/plain", json={"resourceType": "Encounter", "id": "plain", "status": "finished", "class": {"code": "AMB"}}, headers={"Content-Type": "application/fhir+json"})
    assert r.status_code == 201
    r = await client.get("Encounter/plain/$transfer54")
    assert r.status_code == 422 and r.json()["issue"][0]["code"] == "not-supported"
    assert "holds no transfer data" in r.json()["issue"][0]["diagnostics"]
    assert (await client.get("Encounter/nope/$transfer54")).status_code == 404


async def test_operations_in_capability_statement(client) -> None:
    cs = (await client.get("metadata")).json()["rest"][0]
    assert "import-transfer54" in {o["name"] for o in cs["operation"]}
    encounter = next(r for r in cs["resource"] if r["type"] == "Encounter")
    assert "transfer54" in {o["name"] for o in encounter["operation"]}


async def test_export_of_an_encounter_with_a_document_but_no_transfer_data(client) -> None:
    """An Encounter some other document refers to holds no transfer data either: said plainly,
    422 not-supported as ``$bhyt-xml`` answers for an Encounter not made from insurance tables."""
    r = await client.put("Encounter/plain", json={"resourceType": "Encounter", "id": "plain", "status": "finished", "class": {"code": "AMB"}}, headers={"Content-Type": "application/fhir+json"})
    assert r.status_code == 201
    note = {"resourceType": "DocumentReference", "status": "current", "content": [{"attachment": {"contentType": "text/plain", "data": "aGk="}}],
            "context": {"encounter": [{"reference": "Encounter/plain"}]}}
    assert (await client.post("DocumentReference", json=note, headers={"Content-Type": "application/fhir+json"})).status_code == 201
    r = await client.get("Encounter/plain/$transfer54")
    assert r.status_code == 422
    issue = r.json()["issue"][0]
    assert issue["code"] == "not-supported"
    assert "Encounter/plain holds no transfer data" in issue["diagnostics"]
    assert "None" not in issue["diagnostics"]
