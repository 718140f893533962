"""What only the MongoDB store does: refuse a standalone server, retry transactions, lay out documents.

These run on the in-process emulator (they inject its failures); the behaviour shared with
SQLite is in test_conformance.py.
"""

from __future__ import annotations

from typing import Any, AsyncIterator

import pytest
from bson import Binary
from pymongo import AsyncMongoClient
from pymongo.errors import OperationFailure, ServerSelectionTimeoutError

from server.storage.base import HistoryQuery, Query, SortKey, StoreConfigError, Tx, Write
from server.storage.index import DateValue, StringValue
from server.storage.mongo.store import MAX_TRIES, MongoStore, redact_url
from storage_helpers import found, put, tok, version
try:  # tests/ is a package (tests/__init__.py), the repository root is on sys.path
    from tests.support.mongo_emulator import EmulatorClient
except ImportError:  # tests/ has no __init__.py: pytest put tests/ itself on sys.path
    from support.mongo_emulator import EmulatorClient  # type: ignore[no-redef]

pytestmark = pytest.mark.anyio

TRANSIENT = "TransientTransactionError"
UNKNOWN_COMMIT = "UnknownTransactionCommitResult"


@pytest.fixture
async def emulator() -> AsyncIterator[tuple[MongoStore, EmulatorClient]]:
    client = EmulatorClient()
    store = MongoStore(client=client)
    await store.open()
    yield store, client
    await store.close()


async def test_open_refuses_a_server_that_is_not_a_replica_set() -> None:
    store = MongoStore(client=EmulatorClient(replica_set=False))
    with pytest.raises(StoreConfigError) as info:
        await store.open()
    message = str(info.value)
    assert "replica set" in message and "rs.initiate()" in message and "--replSet" in message


async def test_open_reports_an_unreachable_server_as_a_config_error() -> None:
    class Unreachable(EmulatorClient):
        def __getitem__(self, name: str) -> Any:
            class Db:
                async def command(self, *args: Any) -> dict[str, Any]:
                    raise ServerSelectionTimeoutError("127.0.0.1:1: connection refused")

            return Db()

    with pytest.raises(StoreConfigError, match="cannot reach MongoDB at mongodb://\\*\\*\\*@db:27017"):
        await MongoStore("mongodb://user:secret@db:27017", client=Unreachable()).open()


async def test_kind_is_the_injected_clients() -> None:
    assert MongoStore(client=EmulatorClient()).kind == "mongodb-emulator"
    assert MongoStore("mongodb://localhost").kind == "mongodb"
    real = AsyncMongoClient("mongodb://localhost", connect=False)  # answers .kind with a database
    assert MongoStore(client=real).kind == "mongodb"
    await real.close()
    with pytest.raises(ValueError):
        MongoStore()


def test_redact_url_hides_credentials() -> None:
    assert redact_url("mongodb://u:secret@h1,h2/db?x=1") == "mongodb://***@h1,h2/db?x=1"
    assert redact_url("mongodb://h1:27017") == "mongodb://h1:27017"


def _counting_create(calls: list[int]):  # type: ignore[no-untyped-def]
    async def work(tx: Tx) -> str:
        calls.append(1)
        await tx.write(Write(version("Patient", "p1", 1, ts=100), (tok("identifier", "1"),)))
        return "ok"

    return work


async def test_a_transient_commit_failure_reruns_the_unit(emulator: tuple[MongoStore, EmulatorClient]) -> None:
    store, client = emulator
    client.fail_next_commits(TRANSIENT, times=2)
    calls: list[int] = []
    assert await store.atomic(_counting_create(calls)) == "ok"
    assert len(calls) == 3
    assert (await store.current("Patient", "p1")).vid == 1  # type: ignore[union-attr]
    assert (await store.history(HistoryQuery(), total=True)).total == 1


async def test_retries_are_bounded(emulator: tuple[MongoStore, EmulatorClient]) -> None:
    store, client = emulator
    client.fail_next_commits(TRANSIENT, times=MAX_TRIES)
    calls: list[int] = []
    with pytest.raises(OperationFailure) as info:
        await store.atomic(_counting_create(calls))
    assert info.value.has_error_label(TRANSIENT) and len(calls) == MAX_TRIES
    assert await store.current("Patient", "p1") is None


async def test_an_unknown_commit_result_retries_the_commit_not_the_unit(
    emulator: tuple[MongoStore, EmulatorClient],
) -> None:
    store, client = emulator
    client.fail_next_commits(UNKNOWN_COMMIT, times=2)
    calls: list[int] = []
    assert await store.atomic(_counting_create(calls)) == "ok"  # no false VersionConflict
    assert len(calls) == 1
    assert (await store.current("Patient", "p1")).vid == 1  # type: ignore[union-attr]


async def test_a_transient_error_inside_the_unit_reruns_it(emulator: tuple[MongoStore, EmulatorClient]) -> None:
    store, _ = emulator
    calls: list[int] = []

    async def work(tx: Tx) -> None:
        calls.append(1)
        await tx.write(Write(version("Patient", f"try{len(calls)}", 1, ts=100)))
        if len(calls) == 1:
            raise OperationFailure("write conflict", 112, {"errorLabels": [TRANSIENT]})

    await store.atomic(work)
    assert len(calls) == 2
    assert await store.current("Patient", "try1") is None  # the first run was rolled back
    assert await store.current("Patient", "try2") is not None


async def test_other_driver_errors_are_not_retried(emulator: tuple[MongoStore, EmulatorClient]) -> None:
    store, _ = emulator
    calls: list[int] = []

    async def work(tx: Tx) -> None:
        calls.append(1)
        await tx.write(Write(version("Patient", "p1", 1, ts=100)))
        raise OperationFailure("bad", 2)

    with pytest.raises(OperationFailure):
        await store.atomic(work)
    assert len(calls) == 1 and await store.current("Patient", "p1") is None


async def test_document_layout(emulator: tuple[MongoStore, EmulatorClient]) -> None:
    store, _ = emulator
    await put(store, "Patient", "p1", 1, ts=100, index=[tok("identifier", "42", "urn:cccd")])
    doc = await store._c.resources.find_one({"_id": "Patient/p1"})
    assert isinstance(doc["body"], Binary) and doc["vid"] == 1 and doc["ts"] == 100
    assert doc["tok"] == [{"p": "identifier", "s": "urn:cccd", "c": "42", "t": None}]
    assert doc["seq"] == 1 and doc["srt"] == {"token:identifier": {"h": 1, "lo": "42", "hi": "42"}}
    await put(store, "Patient", "p1", 2, ts=200, deleted=True)
    doc = await store._c.resources.find_one({"_id": "Patient/p1"})
    assert doc["body"] is None and doc["tok"] == [] and doc["srt"] == {}
    assert doc["seq"] == 1  # kept: the creation order survives deletion
    first = await store._c.history.find_one({"type": "Patient", "id": "p1", "vid": 1})
    assert first["next_ts"] == 200
    history_indexes = await store._c.history.index_information()
    assert history_indexes["version"]["unique"] is True


async def test_the_emulator_does_not_undo_writes_made_without_the_session() -> None:
    """The property that makes a store forgetting ``session=`` fail the rollback tests."""
    client = EmulatorClient()
    coll = client["db"]["c"]
    async with client.start_session() as session:
        with pytest.raises(RuntimeError):
            async with await session.start_transaction():
                await coll.insert_one({"_id": "with"}, session=session)
                await coll.insert_one({"_id": "without"})
                await coll.update_one({"_id": "with"}, {"$set": {"x": 1}}, session=session)
                raise RuntimeError()
    assert await coll.find_one({"_id": "with"}) is None
    assert await coll.find_one({"_id": "without"}) == {"_id": "without"}


async def test_the_emulator_restores_before_images_in_reverse_order() -> None:
    client = EmulatorClient()
    coll = client["db"]["c"]
    await coll.insert_one({"_id": 1, "v": "original"})
    async with client.start_session() as session:
        async with await session.start_transaction():
            await coll.replace_one({"_id": 1}, {"v": "kept"}, session=session)
        with pytest.raises(RuntimeError):
            async with await session.start_transaction():
                await coll.replace_one({"_id": 1}, {"v": "a"}, session=session)
                await coll.update_one({"_id": 1}, {"$set": {"v": "b"}}, session=session)
                await coll.delete_many({}, session=session)
                raise RuntimeError()
    assert await coll.find_one({"_id": 1}) == {"_id": 1, "v": "kept"}


async def test_sort_values_of_every_kind_and_odd_parameter_names(emulator: tuple[MongoStore, EmulatorClient]) -> None:
    store, _ = emulator
    await put(store, "Patient", "p1", 1, ts=100, index=[
        DateValue("birth.date", 5, 9), DateValue("birth.date", 1, 3), StringValue("$name", "b", "B"), tok("x%2E", "1"),
    ])
    doc = await store._c.resources.find_one({"_id": "Patient/p1"})
    # lo: least ascending sort value (date: low), hi: greatest descending one (date: high);
    # "." and "$" may not appear in field names, so they are escaped
    assert doc["srt"] == {
        "date:birth%2Edate": {"h": 1, "lo": 1, "hi": 9},
        "string:%24name": {"h": 1, "lo": "b", "hi": "b"},
        "token:x%252E": {"h": 1, "lo": "1", "hi": "1"},  # (not the same field as a parameter "x.")
    }
    await put(store, "Patient", "p2", 1, ts=100, index=[DateValue("birth.date", 2, 20)])
    assert await found(store, "Patient", sort=(SortKey("birth.date", "date"),)) == ["Patient/p1", "Patient/p2"]
    assert await found(store, "Patient", sort=(SortKey("birth.date", "date", True),)) == ["Patient/p2", "Patient/p1"]
    assert await found(store, "Patient", sort=(SortKey("$name", "string", True),)) == ["Patient/p1", "Patient/p2"]


async def test_documents_of_the_previous_layout_are_numbered_on_open() -> None:
    client = EmulatorClient()
    db = client["lienthong"]
    for id_, ts, names in [("b", 20, ["z", "m"]), ("a", 20, ["k"]), ("c", 10, []), ("d", 30, None)]:
        await db["resources"].insert_one({
            "_id": f"Patient/{id_}", "type": "Patient", "id": id_, "vid": 1, "ts": ts, "method": "POST",
            "body": None if names is None else Binary(b"{}"), "tok": [], "dt": [], "ref": [], "num": [], "qty": [], "uri": [],
            "str": [{"p": "name", "n": n, "e": n.upper()} for n in names or []],
        })
    store = MongoStore(client=client)
    await store.open()
    try:
        assert await found(store, "Patient") == ["Patient/c", "Patient/a", "Patient/b"]  # (ts, type, id) then
        assert await found(store, "Patient", sort=(SortKey("name", "string"),)) == ["Patient/a", "Patient/b", "Patient/c"]
        assert await found(store, "Patient", sort=(SortKey("name", "string", True),)) == ["Patient/b", "Patient/a", "Patient/c"]
        await put(store, "Patient", "new", 1, ts=1)
        assert (await found(store, "Patient"))[-1] == "Patient/new"  # after every numbered one
        page = await store.search(Query("Patient"))
        assert [k[0] for k in page.keys] == [1, 2, 3, 5]  # d (deleted) is 4
    finally:
        await store.close()
    again = MongoStore(client=client)  # the second open finds nothing to do
    await again.open()
    assert await found(again, "Patient") == ["Patient/c", "Patient/a", "Patient/b", "Patient/new"]
    await again.close()
