"""Insurance-table episodes through a store: stored atomically by their transaction, read back
exactly by ``from_store``, and importing the same envelope again changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from mappings.bhyt_xml import read_envelope
from mappings.bhyt_xml.fhir import to_fhir
from mappings.bhyt_xml.store import NotAnInsuranceEpisode, from_store
from server import jsonio
from server.config import Settings
from server.fhir.bundles import BundleProcessor
from server.fhir.repository import Repository
from server.storage.base import HistoryQuery, Query

ROOT = Path(__file__).resolve().parents[2]
TESTDATA = ROOT / "mappings" / "bhyt_xml" / "testdata"
EXAMPLES = ROOT / "examples" / "bhyt"


def _episodes(name: str):
    """A sample envelope (testdata), or an example of the generator (3176, which has no sample)."""
    return list(read_envelope(TESTDATA / name if (TESTDATA / name).exists() else EXAMPLES / name))


async def _post(processor: BundleProcessor, episode) -> list[dict]:
    bundle = jsonio.loads(jsonio.dumps(to_fhir(episode)))  # as it would arrive over HTTP
    _, entries = processor.parse(bundle)
    return await processor.transaction(entries)


def _encounter_id(response: list[dict]) -> str:
    loc = next(e["response"]["location"] for e in response if e["response"]["location"].startswith("Encounter/"))
    return loc.split("/")[1]


@pytest.mark.anyio
@pytest.mark.parametrize("name", ["giamdinhhs-130.xml", "giamdinhhs-3176.xml", "giamdinhhs-4210.xml"])
async def test_store_round_trip_and_idempotent(store, name: str) -> None:
    repo = Repository(store, Settings())
    processor = BundleProcessor(repo)
    episodes = _episodes(name)
    ids = []
    for ep in episodes:
        response = await _post(processor, ep)
        assert all(e["response"]["status"].startswith(("200", "201")) for e in response)
        ids.append(_encounter_id(response))
    versions = (await store.history(HistoryQuery(), total=True)).total
    for ep, enc_id in zip(episodes, ids):
        again = await _post(processor, ep)
        assert {e["response"]["status"] for e in again} == {"200 OK"}
        assert _encounter_id(again) == enc_id
    assert (await store.history(HistoryQuery(), total=True)).total == versions  # nothing changed
    for ep, enc_id in zip(episodes, ids):
        back = await from_store(repo, enc_id)
        assert back.standard == ep.standard
        assert back.tables == ep.tables


@pytest.mark.anyio
async def test_from_store_refuses_other_encounters(store) -> None:
    repo = Repository(store, Settings())
    plain = {"resourceType": "Encounter", "status": "finished",
             "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}}
    _, entries = BundleProcessor(repo).parse({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": plain, "request": {"method": "POST", "url": "Encounter"}}]})
    response = await BundleProcessor(repo).transaction(entries)
    with pytest.raises(NotAnInsuranceEpisode):
        await from_store(repo, _encounter_id(response))


@pytest.mark.anyio
async def test_a_corrected_episode_updates_in_place(store) -> None:
    repo = Repository(store, Settings())
    processor = BundleProcessor(repo)
    ep = _episodes("giamdinhhs-130.xml")[1]
    enc_id = _encounter_id(await _post(processor, ep))
    counts = {t: (await store.search(Query(t, total=True))).total for t in ("MedicationRequest", "Procedure", "Observation")}
    ep.tables["XML2"][0]["LIEU_DUNG"] = "Ngày uống 3 lần, mỗi lần 1 viên"
    ep.tables["XML1"][0]["T_BNTT"] = "12345.50"
    response = await _post(processor, ep)
    assert _encounter_id(response) == enc_id
    assert {t: (await store.search(Query(t, total=True))).total for t in counts} == counts
    back = await from_store(repo, enc_id)
    assert back.tables == ep.tables
