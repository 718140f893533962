"""Importing a transfer54 record twice through a transaction creates no duplicate
Patient, Practitioner or Organization (conditional creates and conditional references)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mappings.transfer54.fhir import to_fhir
from mappings.transfer54.generate import records
from server import jsonio
from server.config import Settings
from server.fhir.bundles import BundleProcessor
from server.fhir.repository import Repository
from server.fhir.resource import body_of
from server.storage.base import HistoryQuery, Query

TESTDATA = Path(__file__).resolve().parents[2] / "mappings" / "transfer54" / "testdata"


async def _post(processor: BundleProcessor, record: dict[str, str]) -> list[dict]:
    bundle = jsonio.loads(jsonio.dumps(to_fhir(record)))  # as it would arrive over HTTP
    btype, entries = processor.parse(bundle)
    assert btype == "transaction"
    return await processor.transaction(entries)


async def _count(store, type_: str) -> int:
    return (await store.search(Query(type_, total=True))).total


@pytest.mark.anyio
async def test_importing_twice_creates_no_duplicates(store) -> None:
    samples = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(TESTDATA.glob("*.json"))]
    # generated records whose patient can be matched by an identifier
    extra = [r for r in records(11, 12) if {"SO_CCCD", "MA_BN", "MA_THE_BHYT"} & set(r)][:6]
    batch = samples + extra
    processor = BundleProcessor(Repository(store, Settings()))

    first = await _post(processor, samples[0])
    assert all(e["response"]["status"].startswith("201") for e in first)
    versions = (await store.history(HistoryQuery(), total=True)).total
    second = await _post(processor, samples[0])
    statuses = [e["response"]["status"] for e in second]
    assert statuses == ["200 OK"] * len(first)  # everything matched: shared resources and the episode's own
    assert (await store.history(HistoryQuery(), total=True)).total == versions  # and nothing changed
    assert await _count(store, "Patient") == 1
    assert await _count(store, "Practitioner") == 1
    assert await _count(store, "Organization") == 2  # 19001 (sender/origin/registered), 42001

    for record in batch[1:]:
        await _post(processor, record)
        await _post(processor, record)

    facilities = set()
    certificates = set()
    patients = set()
    for r in batch:
        facilities |= {r["MA_CSKCB"], r["MA_NOI_DI"], r["MA_NOI_DEN"], *r.get("MA_DKBD", "").split(";")} - {""}
        certificates |= {r["MA_BAC_SI"], r.get("MA_TTDV", "")} - {""}
        bundle = to_fhir(r)
        patients.add(next(e["request"]["ifNoneExist"] for e in bundle["entry"]
                          if e["resource"]["resourceType"] == "Patient"))
    assert await _count(store, "Organization") == len(facilities)
    assert await _count(store, "Practitioner") == len(certificates)
    assert await _count(store, "Patient") == len(patients)
    assert await _count(store, "Encounter") == len(batch)  # one per episode (MA_LK), however often imported
    assert await _count(store, "DocumentReference") == len(batch)

    # every stored Encounter points at the one Organization with its facility code
    by_code = {}
    for v in (await store.search(Query("Organization", total=True))).versions:
        org = body_of(v)
        by_code[org["identifier"][0]["value"]] = f"Organization/{v.id}"
    codes = {r["MA_CSKCB"] for r in batch}
    for v in (await store.search(Query("Encounter", total=True))).versions:
        enc = body_of(v)
        ref = enc["serviceProvider"]["reference"]
        assert ref in by_code.values() and [c for c, r in by_code.items() if r == ref][0] in codes
        assert enc["hospitalization"]["origin"]["reference"] in by_code.values()


@pytest.mark.anyio
async def test_identifiers_with_search_syntax_characters_still_match(store) -> None:
    record = json.loads((TESTDATA / "t54-1-1.json").read_text(encoding="utf-8"))
    record.update(MA_BAC_SI="12,3|4\\5$6 &x=+y%z#", MA_TTDV="A,B", MA_BN="BN 1,2&3")
    del record["SO_CCCD"]
    processor = BundleProcessor(Repository(store, Settings()))
    await _post(processor, record)
    await _post(processor, record)
    assert await _count(store, "Practitioner") == 2
    assert await _count(store, "Patient") == 1
