"""``$import-bhyt`` and ``Encounter/{id}/$bhyt-xml`` over REST, on both stores."""

from __future__ import annotations

import io

import pytest

from mappings.bhyt_xml.envelope import Episode, read_envelope
from mappings.bhyt_xml.fhir import to_fhir
from mappings.transfer54.generate import records
from server import jsonio
from tests.bhyt_envelopes import envelope, generated, hoso, mixed

pytestmark = pytest.mark.anyio
XML = {"Content-Type": "application/xml"}


def encounter_ids(body: dict) -> list[str]:
    return [e["response"]["location"].split("/")[1] for e in body["entry"] if "location" in e["response"]]


async def total(client, type_: str) -> int:
    return (await client.get(type_, params={"_summary": "count"})).json()["total"]


async def export(client, eid: str, **params: str) -> list:
    r = await client.get(f"Encounter/{eid}/$bhyt-xml", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/xml")
    return list(read_envelope(io.BytesIO(r.content)))


async def test_each_hoso_gets_its_own_entry_in_envelope_order(client) -> None:
    m = mixed(8, "130")  # 8 HOSO, well under the test server's 200,000-byte body limit
    r = await client.post("$import-bhyt", content=m.data, headers=XML)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["resourceType"] == "Bundle" and body["type"] == "batch-response"
    statuses = [e["response"]["status"] for e in body["entry"]]
    assert statuses == ["422 Unprocessable Entity" if i in m.broken else "201 Created" for i in range(1, 9)]
    for i, entry in enumerate(body["entry"], 1):
        response = entry["response"]
        if i in m.broken:
            issues = response["outcome"]["issue"]
            word = m.broken[i][1]
            assert any(word in x["diagnostics"] and x["diagnostics"].startswith(f"HOSO {i} ") for x in issues), issues
            assert "location" not in response
        else:
            assert response["location"].startswith("Encounter/")
            (back,) = await export(client, response["location"].split("/")[1])
            assert isinstance(back, Episode) and back.ma_lk == m.positions[i].ma_lk
            assert back.tables == m.positions[i].tables
    assert await total(client, "Encounter") == 4


async def test_import_twice_answers_200_and_changes_nothing(client) -> None:
    eps = generated(8, 2, "4210")
    data = envelope([hoso(e) for e in eps])
    first = await client.post("$import-bhyt", content=data, headers={"Content-Type": "text/xml; charset=utf-8"})
    assert [e["response"]["status"] for e in first.json()["entry"]] == ["201 Created"] * 2
    versions = (await client.get("_history")).json()["total"]
    second = await client.post("$import-bhyt", content=data, headers=XML)
    assert [e["response"]["status"] for e in second.json()["entry"]] == ["200 OK"] * 2
    assert encounter_ids(second.json()) == encounter_ids(first.json())
    assert (await client.get("_history")).json()["total"] == versions
    eid = encounter_ids(first.json())[0]
    (back,) = await export(client, eid, standard="4210")
    assert back.standard == "4210" and back.tables == eps[0].tables


async def test_an_episode_the_store_refuses_leaves_nothing_and_the_others_are_stored(client) -> None:
    eps = generated(11, 2, "130")
    bundle = to_fhir(eps[0])
    patient = next(e for e in bundle["entry"] if e["request"]["url"].startswith("Patient"))
    criteria = patient["request"].get("ifNoneExist") or patient["request"]["url"].partition("?")[2]
    system, _, value = criteria.partition("=")[2].partition("|")
    for _ in range(2):  # two Patients with the episode's patient identifier: the match is ambiguous
        r = await client.post("Patient", json={"resourceType": "Patient", "identifier": [{"system": system, "value": value}]})
        assert r.status_code == 201, r.text
    before = (await client.get("_history")).json()["total"]
    alone = await client.post("$import-bhyt", content=envelope([hoso(eps[0])]), headers=XML)
    assert alone.json()["entry"][0]["response"]["status"] == "412 Precondition Failed"
    assert (await client.get("_history")).json()["total"] == before  # the refused episode wrote nothing
    r = await client.post("$import-bhyt", content=envelope([hoso(e) for e in eps]), headers=XML)
    first, second = r.json()["entry"]
    assert first["response"]["status"] == "412 Precondition Failed"
    issue = first["response"]["outcome"]["issue"][0]
    assert issue["diagnostics"].startswith(f"HOSO 1 (MA_LK {eps[0].ma_lk})") and "Patient" in issue["diagnostics"]
    assert second["response"]["status"] == "201 Created"
    assert await total(client, "Encounter") == 1
    (back,) = await export(client, second["response"]["location"].split("/")[1])
    assert back.ma_lk == eps[1].ma_lk


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><GIAMDINHHS>&a;</GIAMDINHHS>', "DOCTYPE"),
        (b"<Patient/>", "GIAMDINHHS"),
        (b"not xml at all", "malformed"),
        (b"", "malformed"),
    ],
)
async def test_unsafe_or_non_envelope_is_400_for_the_whole_request(client, body: bytes, words: str) -> None:
    r = await client.post("$import-bhyt", content=body, headers=XML)
    assert r.status_code == 400, r.text
    outcome = r.json()
    assert outcome["resourceType"] == "OperationOutcome" and words in outcome["issue"][0]["diagnostics"]
    assert await total(client, "Encounter") == 0


async def test_an_envelope_that_breaks_off_stores_nothing(client) -> None:
    eps = generated(12, 3, "130")
    data = envelope([hoso(e) for e in eps])
    torn = data[: data.rindex(b"<HOSO>") + 50]
    r = await client.post("$import-bhyt", content=torn, headers=XML)
    assert r.status_code == 400 and "malformed" in r.json()["issue"][0]["diagnostics"]
    assert await total(client, "Encounter") == 0


async def test_wrong_content_type_is_415(client) -> None:
    r = await client.post("$import-bhyt", content=b"{}", headers={"Content-Type": "application/json"})
    assert r.status_code == 415 and r.json()["resourceType"] == "OperationOutcome"


async def test_export_errors(client) -> None:
    r = await client.get("Encounter/nope/$bhyt-xml")
    assert r.status_code == 404 and r.json()["resourceType"] == "OperationOutcome"
    plain = await client.post("Encounter", json={"resourceType": "Encounter", "status": "finished", "class": {"code": "AMB"}})
    assert plain.status_code == 201
    r = await client.get(f"Encounter/{plain.json()['id']}/$bhyt-xml")
    assert r.status_code == 422 and r.json()["issue"][0]["code"] == "not-supported"
    t54 = await client.post("$import-transfer54", content=jsonio.dumps(records(3, 1)[0]), headers={"Content-Type": "application/json"})
    t54_encounter = next(e["response"]["location"] for e in t54.json()["entry"] if e["response"]["location"].startswith("Encounter/"))
    r = await client.get(f"{t54_encounter.split('/_history')[0]}/$bhyt-xml")
    assert r.status_code == 422
    data = envelope([hoso(e) for e in generated(13, 1, "130")])
    (eid,) = encounter_ids((await client.post("$import-bhyt", content=data, headers=XML)).json())
    r = await client.get(f"Encounter/{eid}/$bhyt-xml", params={"standard": "999"})
    assert r.status_code == 400 and "standard" in r.json()["issue"][0]["diagnostics"]
    assert (await client.delete(f"Encounter/{eid}")).status_code == 409  # its episode's resources refer to it
    assert (await client.delete(f"Encounter/{plain.json()['id']}")).status_code in (200, 204)
    assert (await client.get(f"Encounter/{plain.json()['id']}/$bhyt-xml")).status_code == 410


async def test_both_operations_are_in_the_capability_statement(client) -> None:
    cs = (await client.get("metadata")).json()
    rest = cs["rest"][0]
    assert "import-bhyt" in {o["name"] for o in rest["operation"]}
    encounter = next(r for r in rest["resource"] if r["type"] == "Encounter")
    assert "bhyt-xml" in {o["name"] for o in encounter["operation"]}


async def test_accepted_departures_come_back_as_warnings_and_strict_refuses_them(client) -> None:
    from tests.bhyt_envelopes import with_field

    ep = with_field(generated(62, 1, "130")[0], "XML1", "MA_TTDV", "004078/CT-CCHN")
    data = envelope([hoso(ep)])
    strict = await client.post("$import-bhyt", params={"strict": "true"}, content=data, headers=XML)
    assert strict.json()["entry"][0]["response"]["status"].startswith("422")
    r = await client.post("$import-bhyt", content=data, headers=XML)
    response = r.json()["entry"][0]["response"]
    assert response["status"].startswith("201")
    issue = response["outcome"]["issue"][0]
    assert issue["severity"] == "warning" and "MA_TTDV" in issue["diagnostics"] and issue["expression"] == ["GIAMDINHHS.THONGTINHOSO.DANHSACHHOSO.HOSO[0]"]


async def test_a_table_held_as_inline_xml_imports_with_a_warning_and_round_trips(client) -> None:
    """NOIDUNGFILE holding the table as XML elements, not base64: stored, each table named in a
    warning, and the episode exports as the same tables (base64, as the standard writes them)."""
    from pathlib import Path

    data = Path(__file__).resolve().parents[2] / "mappings" / "bhyt_xml" / "testdata"
    (expected,) = read_envelope(data / "realistic" / "plain.xml")
    r = await client.post("$import-bhyt", content=(data / "inline-xml.xml").read_bytes(), headers=XML)
    assert r.status_code == 200, r.text
    (entry,) = r.json()["entry"]
    assert entry["response"]["status"] == "201 Created"
    warnings = [i["diagnostics"] for i in entry["response"]["outcome"]["issue"] if i["severity"] == "warning"]
    for table in expected.tables:
        assert any(w.endswith(f"{table}: NOIDUNGFILE held the table as inline XML, not base64 (read as it is)") for w in warnings), warnings
    (back,) = await export(client, entry["response"]["location"].split("/")[1])
    assert back.tables == expected.tables
