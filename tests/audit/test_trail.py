"""The audit trail on both stores: batched without loss, atomic with writes, searchable."""

from __future__ import annotations

import asyncio

import pytest

from server.audit.events import auth_event, rest_event
from server.audit.trail import AuditTrail
from server.auth.access import FULL
from server.config import Settings
from server.fhir.repository import Repository
from server.storage.base import Query, Store

pytestmark = pytest.mark.anyio


def _repo(store: Store) -> Repository:
    return Repository(store, Settings())


def _event(i: int, patient: str = "p1", status: int = 200) -> dict:
    return rest_event(interaction="read", method="GET", path=f"/fhir/Observation/o{i}", query="", status=status, access=FULL,
                      source_ip="127.0.0.1", touched=[("Observation", f"o{i}", 1)], patients={patient})


async def _all_events(repo: Repository, **params: str) -> list[dict]:
    parsed = repo.parser.parse(("AuditEvent",), list(params.items()) + [("_count", "1000")], strict=True)
    from server.fhir.resource import body_of

    return [body_of(v) for v in (await repo.search("AuditEvent", parsed, {})).matches]


async def test_many_concurrent_events_are_all_stored_in_few_units(store: Store) -> None:
    repo = _repo(store)
    trail = AuditTrail(store, repo.prepare, delay=0.01)
    units = 0
    real = store.bulk_load

    async def counting(writes):  # type: ignore[no-untyped-def]
        nonlocal units
        units += 1
        return await real(writes)

    store.bulk_load = counting  # type: ignore[method-assign]
    try:
        async def client(k: int) -> None:
            for i in range(10):
                await trail.record(_event(k * 10 + i))
                await asyncio.sleep(0)

        await asyncio.gather(*(client(k) for k in range(50)))
        await trail.record_later(lambda: _event(999))
        await trail.stop()
    finally:
        store.bulk_load = real  # type: ignore[method-assign]
    assert (await store.search(Query("AuditEvent", limit=0, total=True))).total == 501
    assert 1 <= units <= 10, units  # batched: 501 events in a handful of units of work


async def test_write_in_rolls_back_with_its_unit(store: Store) -> None:
    repo = _repo(store)
    trail = AuditTrail(store, repo.prepare)

    async def failing(tx):  # type: ignore[no-untyped-def]
        await trail.write_in(tx, _event(1))
        raise RuntimeError("the write it describes failed")

    with pytest.raises(RuntimeError):
        await store.atomic(failing)
    assert (await store.search(Query("AuditEvent", limit=0, total=True))).total == 0
    await store.atomic(lambda tx: trail.write_in(tx, _event(2)))
    assert (await store.search(Query("AuditEvent", limit=0, total=True))).total == 1


async def test_a_failing_store_loses_nothing(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _repo(store)
    trail = AuditTrail(store, repo.prepare, delay=0.001)
    real, calls = store.bulk_load, []

    async def flaky(writes):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            raise OSError("disk briefly unavailable")
        return await real(writes)

    monkeypatch.setattr(store, "bulk_load", flaky)
    for i in range(5):
        await trail.record(_event(i))
    await trail.stop()
    assert len(calls) >= 2 and (await store.search(Query("AuditEvent", limit=0, total=True))).total == 5


async def test_disabled_trail_writes_nothing(store: Store) -> None:
    repo = _repo(store)
    trail = AuditTrail(store, repo.prepare, enabled=False)
    await trail.record(_event(1))
    await store.atomic(lambda tx: trail.write_in(tx, _event(2)))
    await trail.stop()
    assert (await store.search(Query("AuditEvent", limit=0, total=True))).total == 0


async def test_events_are_searchable_by_patient_entity_agent_date_type_outcome(store: Store) -> None:
    repo = _repo(store)
    trail = AuditTrail(store, repo.prepare)
    await trail.record(_event(1, "p1"))
    await trail.record(_event(2, "p2", status=403))
    await trail.record(auth_event(action="login", success=False, source_ip="127.0.0.1", client_id=None, user="nguyen.an", detail="wrong password"))
    await trail.stop()
    assert len(await _all_events(repo, patient="Patient/p1")) == 1
    assert len(await _all_events(repo, entity="Observation/o2")) == 1
    assert len(await _all_events(repo, **{"agent:identifier": "urn:lienthong:client|server"})) == 2
    assert len(await _all_events(repo, outcome="4")) == 2
    assert len(await _all_events(repo, type="http://dicom.nema.org/resources/ontology/DCM|110114")) == 1
    assert len(await _all_events(repo, subtype="read")) == 2
    assert len(await _all_events(repo, date="ge2020-01-01")) == 3
    assert len(await _all_events(repo, date="lt2020-01-01")) == 0
