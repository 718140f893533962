"""An identifier lookup must be answered from an index, not by scanning resources."""

from __future__ import annotations

import json

import pytest

from server.storage.base import Query, Store
from server.storage.index import KIND_COLUMNS, TokenMatch
from server.storage.mongo.store import MongoStore
from server.storage.sqlite.store import SqliteStore
from storage_helpers import found, put, tok

pytestmark = pytest.mark.anyio

LOOKUP = Query("Patient", TokenMatch("identifier", "urn:cccd", "000000000042"))


async def _patients(store: Store, n: int) -> None:
    for i in range(n):
        await put(store, "Patient", f"p{i}", 1, ts=i, index=[tok("identifier", f"{i:012d}", "urn:cccd")])


async def test_identifier_lookup_uses_the_token_index(store: Store) -> None:
    await _patients(store, 300)
    assert await found(store, LOOKUP.type, LOOKUP.where) == ["Patient/p42"]
    if isinstance(store, SqliteStore):
        plan = store.explain(LOOKUP)
        assert any("idx_token_code (param=? AND code=? AND type=? AND system=?)" in step for step in plan), plan
        assert any(step.startswith("SEARCH r USING INTEGER PRIMARY KEY") for step in plan), plan
        assert not any(step.startswith("SCAN") for step in plan), plan
    elif isinstance(store, MongoStore) and store.kind == "mongodb":
        plan = json.dumps((await store.explain(LOOKUP))["queryPlanner"], default=str)
        assert "IXSCAN" in plan and "tok_code" in plan and "COLLSCAN" not in plan, plan
    elif isinstance(store, MongoStore):  # the emulator has no planner: check the index exists
        indexes = await store._c.resources.index_information()
        assert indexes["tok_code"]["key"] == [("tok.p", 1), ("tok.c", 1), ("type", 1), ("tok.s", 1)]
    else:
        pytest.fail(f"no index check for {store.kind}")


async def test_every_value_kind_is_indexed(store: Store) -> None:
    """Each kind's values can be looked up by parameter and value without a scan."""
    if isinstance(store, SqliteStore):
        tables = {row[0]: row[1] for row in store._reader.execute("SELECT name, tbl_name FROM sqlite_schema WHERE type = 'index'")}
        for kind in KIND_COLUMNS:
            ours = [name for name, table in tables.items() if table == f"idx_{kind}" and not name.endswith("_pk")]
            assert ours, kind
            for name in ours:
                columns = [row[2] for row in store._reader.execute(f"PRAGMA index_info({name})")]
                assert columns[0] == "param" and columns[-1] == "pk", (name, columns)
    elif isinstance(store, MongoStore):
        indexes = await store._c.resources.index_information()
        leading = {dict(info)["key"][0][0] for info in indexes.values()}
        for array in ("tok", "str", "dt", "ref", "num", "qty", "uri"):
            assert f"{array}.p" in leading, array
        assert indexes["type_seq"]["key"] == [("type", 1), ("seq", 1)]
        assert indexes["str"]["key"] == [("str.p", 1), ("str.n", 1), ("type", 1)]
        assert indexes["ref"]["key"] == [("ref.p", 1), ("ref.t", 1), ("type", 1)]
    else:
        pytest.fail(f"no index check for {store.kind}")
