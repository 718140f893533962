"""The audit trail on both stores: batched without loss, atomic with writes, searchable."""

from __future__ import annotations

import asyncio

import pytest

from server.audit.events import auth_event, rest_event
from server.audit.trail import AuditTrail
from server.auth.access import FULL, Access
from server.auth.scopes import parse_scopes
from server.config import Settings
from server.fhir.repository import Repository
from server.storage.base import Query, Store

pytestmark = pytest.mark.anyio


def _repo(store: Store) -> Repository:
    return Repository(store, Settings())


def _event(i: int, patient: str = "p1", status: int = 200, interaction: str = "read", access: Access = FULL, ip: str = "127.0.0.1") -> dict:
    return rest_event(interaction=interaction, method="GET", path=f"/fhir/Observation/o{i}", query="", status=status, access=access,
                      source_ip=ip, touched=[("Observation", f"o{i}", 1)], patients={patient})


async def _count(store: Store) -> int:
    return (await store.search(Query("AuditEvent", limit=0, total=True))).total or 0


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
    assert await _count(store) == 501
    assert len(await _all_events(repo, entity="Observation/o499")) == 1 and len(await _all_events(repo, entity="Observation/o999")) == 1
    assert 1 <= units <= 10, units  # batched: 501 events in a handful of units of work


async def test_flush_waits_for_what_was_queued_and_the_trail_keeps_running(store: Store) -> None:
    repo = _repo(store)
    trail = AuditTrail(store, repo.prepare, batch=200, delay=0.05)

    async def client(k: int) -> None:
        for i in range(10):
            await trail.record(_event(k * 10 + i))

    await asyncio.gather(*(client(k) for k in range(50)))
    assert await _count(store) < 500  # queued, not yet stored: the readers did not wait for a commit
    await trail.flush()
    assert await _count(store) == 500
    await trail.record(_event(1000))
    await trail.flush()
    assert await _count(store) == 501
    await trail.stop()
    await trail.flush()  # after stop: nothing to wait for


async def test_start_then_stop_and_start_again(store: Store) -> None:
    repo = _repo(store)
    trail = AuditTrail(store, repo.prepare, delay=10)  # a long delay: only stop() makes it write now
    trail.start()
    await trail.record(_event(1))
    await trail.stop()
    assert await _count(store) == 1
    await trail.record(_event(2))  # the writer starts again by itself
    await trail.stop()
    assert await _count(store) == 2


async def test_stop_gives_up_on_a_dead_store_instead_of_hanging(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _repo(store)
    trail = AuditTrail(store, repo.prepare, delay=0.001)
    trail.RETRY_PAUSE, trail.STOP_ATTEMPTS = 0.001, 3  # type: ignore[misc]

    async def dead(writes):  # type: ignore[no-untyped-def]
        raise OSError("the store is gone")

    monkeypatch.setattr(store, "bulk_load", dead)
    await trail.record(_event(1))
    await asyncio.wait_for(trail.stop(), 10)


async def test_record_never_raises(store: Store) -> None:
    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("cannot prepare")

    trail = AuditTrail(store, broken, delay=0.001)
    await trail.record(_event(1))  # the event is dropped (logged) by the writer, the caller sees nothing
    await trail.record_later(lambda: 1 / 0)  # type: ignore[arg-type, return-value]
    await trail.stop()
    assert await _count(store) == 0


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
    doctor = Access(grants=tuple(parse_scopes("user/*.rs")[0]), user="bs.lan", role="doctor", client_id="workspace", fhir_user="Practitioner/d1", token_id="j1")
    me = Access(grants=tuple(parse_scopes("patient/*.rs")[0]), user="me", patient="p7", fhir_user="Patient/p7", client_id="app")
    await trail.record(_event(1, "p1"))
    await trail.record(_event(2, "p2", status=403))
    await trail.record(auth_event(action="login", success=False, source_ip="127.0.0.1", client_id=None, user="nguyen.an", detail="wrong password"))
    await trail.record(_event(3, "p3", interaction="search-type", access=doctor, ip="10.9.8.7"))
    await asyncio.sleep(0.001)  # recorded: to the microsecond
    await trail.record(_event(4, "p3", status=500, interaction="create", access=doctor))
    await trail.record(_event(5, "p9", access=me))  # Patient/p7 read about p9's Observation: both are patients of it
    await trail.stop()

    async def n(**params: str) -> int:
        return len(await _all_events(repo, **params))

    assert await n(patient="Patient/p1") == 1 and await n(patient="Patient/p3") == 2
    assert await n(patient="Patient/p7") == 1 and await n(patient="Patient/p9") == 1  # p7 as the agent, p9 as an entity
    assert await n(entity="Observation/o2") == 1 and await n(entity="Observation/o2,Observation/o3") == 2
    assert await n(**{"entity-type": "1"}) == 5 and await n(**{"entity-role": "24"}) == 0
    assert await n(agent="Practitioner/d1") == 2 and await n(agent="Patient/p7") == 1
    assert await n(**{"agent:identifier": "urn:lienthong:client|server"}) == 2
    assert await n(**{"agent:identifier": "urn:lienthong:user|bs.lan"}) == 2
    assert await n(outcome="4") == 2 and await n(outcome="8") == 1 and await n(outcome="0") == 3
    assert await n(type="http://dicom.nema.org/resources/ontology/DCM|110114") == 1
    assert await n(type="http://terminology.hl7.org/CodeSystem/audit-event-type|rest") == 5
    assert await n(subtype="read") == 3 and await n(subtype="http://hl7.org/fhir/restful-interaction|search-type") == 1
    assert await n(subtype="http://dicom.nema.org/resources/ontology/DCM|110122") == 1
    assert await n(action="R") == 3 and await n(action="C") == 1 and await n(action="E") == 2
    assert await n(address="10.9.8.7") == 1
    assert await n(**{"source:identifier": "urn:lienthong:server|lienthong"}) == 6
    assert await n(date="ge2020-01-01") == 6
    assert await n(date="lt2020-01-01") == 0
    newest = await _all_events(repo, patient="Patient/p3", _sort="-date")
    assert [e["action"] for e in newest] == ["C", "E"]
