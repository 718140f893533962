"""``lienthong migrate``: data stored before the identifier aliases is brought up to them, once."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from mappings import national
from server import cli, jsonio
from server.config import Settings
from server.fhir.repository import Repository
from server.fhir.search.extract import extract_index
from server.storage.base import Query, Version, Write
from server.storage.sqlite.store import SqliteStore

OURS, HL7VN, MOH = "https://lienthong.dev/fhir/sid/cccd", "http://fhir.hl7.org.vn/core/sid/cccd", "http://fhir.ehealth.gov.vn/core/sid/national_id"


def _old_index(repo: Repository, body: dict):  # type: ignore[no-untyped-def]
    """The index as the server wrote it before the aliases: identifier systems as sent."""
    from server.storage.index import TokenValue

    return tuple(TokenValue(v.param, body["identifier"][0]["system"], v.code, v.text) if isinstance(v, TokenValue) and v.param == "identifier" else v
                 for v in extract_index(repo.search_params, body))


async def _seed(path: Path) -> None:
    store = SqliteStore(str(path))
    await store.open()
    repo = Repository(store, Settings())
    writes = []
    for id_, system in (("old", OURS), ("community", HL7VN)):
        body = {"resourceType": "Patient", "id": id_, "identifier": [{"system": system, "value": f"0010850{id_[:1]}2345"}]}
        if id_ == "old":
            body["meta"] = {"profile": ["https://lienthong.dev/fhir/StructureDefinition/vn-core-patient"]}  # its name before VN Core came
            body["extension"] = [{"url": "https://lienthong.dev/fhir/StructureDefinition/t54-ethnicity",  # as the mappings wrote it
                                  "valueCoding": {"system": "https://lienthong.dev/fhir/CodeSystem/t54-ethnicity", "code": "28"}}]
            body["address"] = [{"text": "Đà Lạt", "extension": [
                {"url": "https://lienthong.dev/fhir/StructureDefinition/t54-province", "valueCoding": {"code": "68"}}]}]
        write, stored = repo.prepare("Patient", id_, body)
        writes.append(Write(write.version, _old_index(repo, stored)))
    await store.bulk_load(writes)
    await store.close()


async def _state(path: Path) -> tuple[dict[str, Version], dict[str, list[str]]]:
    store = SqliteStore(str(path))
    await store.open()
    try:
        current = {id_: await store.current("Patient", id_) for id_ in ("old", "community")}
        found = {}
        repo = Repository(store, Settings())
        for system in (OURS, HL7VN, MOH):  # as a client searches: through the search parser
            where = repo.parse_search("Patient", [("identifier", f"{system}|")], strict=True).where
            page = await store.search(Query("Patient", where))
            found[system] = sorted(v.id for v in page.versions)
        return current, found  # type: ignore[return-value]
    finally:
        await store.close()


def test_migrate_rewrites_the_old_systems_reindexes_the_rest_and_is_idempotent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "old.db"
    asyncio.run(_seed(db))
    _, before = asyncio.run(_state(db))
    assert before[MOH] == []  # indexed as sent: the national system finds nobody
    report = tmp_path / "report.json"
    assert cli.main(["migrate", "--store", f"sqlite:///{db}", "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "lienthong migrate" in out and "Patient" in out
    counts = json.loads(report.read_text())
    assert counts["rewritten"] == {"Patient": 1} and counts["reindexed"] == {"Patient": 1}
    current, found = asyncio.run(_state(db))
    old = jsonio.loads(current["old"].body)
    assert old["identifier"][0]["system"] == MOH and current["old"].vid == 2  # a new version
    assert old["meta"]["profile"] == ["https://lienthong.dev/fhir/StructureDefinition/lienthong-patient"]
    assert national.patient_code(old, "ethnicity") == "28" and national.address_code(old["address"][0], "province") == "68"
    assert "lienthong.dev" not in json.dumps([old["extension"], old["address"]])  # VN Core's extensions only
    assert jsonio.loads(current["community"].body)["identifier"][0]["system"] == HL7VN and current["community"].vid == 1  # as sent
    assert found[MOH] == found[HL7VN] == found[OURS] == ["community", "old"]
    assert cli.main(["migrate", "--store", f"sqlite:///{db}", "--report", str(report)]) == 0  # again: nothing to rewrite
    assert json.loads(report.read_text())["rewritten"] == {}
    again, _ = asyncio.run(_state(db))
    assert {k: v.vid for k, v in again.items()} == {"old": 2, "community": 1}


def test_codings_of_the_old_medicine_and_service_systems_move_to_vn_cores_lists() -> None:
    from profiles import CS
    from server.fhir.migrate import rewritten

    old = {"resourceType": "Procedure", "code": {"coding": [{"system": CS["bhyt-service"], "code": "02.1896"}]},
           "identifier": [{"system": CS["bhyt-service"], "value": "not a coding"}]}
    new = rewritten(old, {})
    assert new["code"]["coding"][0] == {"system": "http://fhir.ehealth.gov.vn/core/CodeSystem/vn-core-procedureCode", "code": "02.1896"}
    assert new["identifier"] == old["identifier"] and rewritten(new, {}) == new
