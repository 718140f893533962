"""What only the SQLite store promises: a WAL file that persists, a steered planner, migration."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import AsyncIterator

import pytest

from server.storage.base import HistoryQuery, Query, SortKey, Tx, VersionConflict, Write
from server.storage.index import ANY, All, AnyOf, Cond, LastUpdated, Not, StringValue, TokenMatch, TypeIs, ValueMatch
from server.storage.sqlite.store import SqliteStore
from storage_helpers import found, put, tok, version

pytestmark = pytest.mark.anyio


async def test_creates_parent_directories_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "lienthong.db"
    store = SqliteStore(str(path))
    await store.open()
    try:
        assert path.exists()
        assert store._reader.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        await store.close()


async def test_data_survives_reopening(tmp_path: Path) -> None:
    path = str(tmp_path / "x.db")
    first = SqliteStore(path)
    await first.open()
    v1 = await put(first, "Patient", "p1", 1, ts=1, index=[tok("identifier", "7")])
    v2 = await put(first, "Patient", "p1", 2, ts=2, index=[tok("identifier", "8")])
    await first.close()

    second = SqliteStore(path)
    await second.open()
    try:
        assert await second.current("Patient", "p1") == v2
        assert await second.version("Patient", "p1", 1) == v1
        assert await found(second, "Patient", TokenMatch("identifier", ANY, "8")) == ["Patient/p1"]
        assert len((await second.history(HistoryQuery())).versions) == 2
    finally:
        await second.close()


async def test_planner_statistics_are_seeded_once_and_never_overwritten(tmp_path: Path) -> None:
    path = str(tmp_path / "x.db")
    store = SqliteStore(path)
    await store.open()
    await put(store, "Patient", "p1", 1, ts=1)
    await store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE sqlite_stat1 SET stat = '7 7' WHERE idx = 'resources_id'")
    await store.open()
    try:
        stat = store._reader.execute("SELECT stat FROM sqlite_stat1 WHERE idx = 'resources_id'").fetchone()
        assert stat == ("7 7",)
    finally:
        await store.close()


async def test_negated_token_search_drives_from_the_type(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "x.db"))
    await store.open()
    try:
        plan = store.explain(Query("Patient", Not(TokenMatch("gender", ANY, "male"))))
        assert plan[0] == "SEARCH r USING INDEX resources_type (type=?)", plan  # in creation order: no sort
    finally:
        await store.close()


async def test_a_failed_write_is_undone_even_if_the_unit_goes_on(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "x.db"))
    await store.open()
    try:
        v1 = await put(store, "Patient", "p1", 1, ts=100, index=[tok("identifier", "1")])

        async def work(tx: Tx) -> None:
            with pytest.raises(sqlite3.IntegrityError):
                await tx.write(Write(version("Patient", "p1", 1, ts=200), (tok("identifier", "2"),), expect_vid=1))
            await tx.write(Write(version("Patient", "p2", 1, ts=300)))

        await store.atomic(work)
        assert await store.current("Patient", "p1") == v1
        assert await found(store, "Patient", TokenMatch("identifier", ANY, "1")) == ["Patient/p1"]
        assert await found(store, "Patient") == ["Patient/p1", "Patient/p2"]
    finally:
        await store.close()


# --------------------------------------------------------- plans of the searches that must scale

PREFIX = ValueMatch("name", "string", (Cond("norm", "prefix", "nguyen van"),))
REF_PARAMS = ("subject", "patient", "performer", "encounter", "focus", "author", "requester", "participant", "based-on", "part-of")
EVERYTHING = All((
    TypeIs(("Encounter", "Observation", "Condition", "Procedure")),
    AnyOf(tuple(ValueMatch(p, "reference", (Cond("target", "eq", "Patient/x"),)) for p in REF_PARAMS)),
))


@pytest.fixture
async def planned(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """A new file: its seeded statistics describe a million resources."""
    store = SqliteStore(str(tmp_path / "x.db"))
    await store.open()
    yield store
    await store.close()


def _no_scan(plan: list[str]) -> None:
    """No table or index is scanned whole (reading a sub-select's own rows is fine)."""
    assert not any(step.startswith("SCAN") and not step.startswith("SCAN (subquery") for step in plan), plan


async def test_name_prefix_is_an_index_range_driving_rowid_lookups(planned: SqliteStore) -> None:
    for query in (Query("Patient", PREFIX, limit=21), Query(None, PREFIX), Query("Patient", PREFIX, after=(7, "Patient", "x"))):
        plan = planned.explain(query)
        assert plan[0].startswith("SEARCH r USING INTEGER PRIMARY KEY (rowid"), plan
        assert "SEARCH idx_string USING COVERING INDEX idx_string_norm (param=? AND norm>? AND norm<?)" in plan, plan
        assert not any("TEMP B-TREE" in step for step in plan), plan  # pks come in creation order
        _no_scan(plan)
    # the total is counted in the covering index alone
    plan = planned.explain(Query("Patient", PREFIX, total=True), count=True)
    assert plan == ["USE TEMP B-TREE FOR count(DISTINCT)", "SEARCH idx_string USING COVERING INDEX idx_string_norm (param=? AND norm>? AND norm<?)"], plan
    # sorted: the same driver, one lookup per match in the index table's pk index for its sort value
    plan = planned.explain(Query("Patient", PREFIX, sort=(SortKey("birthdate", "date", True),)))
    assert plan[0].startswith("SEARCH r USING INTEGER PRIMARY KEY") and "SEARCH x USING INDEX idx_date_pk (pk=?)" in plan, plan
    _no_scan(plan)


async def test_references_over_many_parameters_use_the_target_index(planned: SqliteStore) -> None:
    for query in (Query(None, EVERYTHING, limit=1000), Query("Observation", EVERYTHING.terms[1])):
        plan = planned.explain(query)
        assert plan[0] == "SEARCH r USING INTEGER PRIMARY KEY (rowid=?)", plan
        lookups = [s for s in plan if s.startswith("SEARCH idx_reference USING COVERING INDEX idx_reference_target (param=? AND target=?")]
        assert len(lookups) == len(REF_PARAMS), plan
        _no_scan(plan)
    plan = planned.explain(Query(None, EVERYTHING.terms[1], total=True), count=True)
    assert len([s for s in plan if "idx_reference_target (param=? AND target=?)" in s]) == len(REF_PARAMS), plan
    _no_scan(plan)


async def test_every_value_kind_has_an_index_for_its_conditions(planned: SqliteStore) -> None:
    for term, index in [
        (ValueMatch("identifier", "token", (Cond("system", "eq", "urn:x"), Cond("code", "eq", "1"))), "idx_token_code"),
        (ValueMatch("identifier", "token", (Cond("system", "eq", "urn:x"),)), "idx_token_system"),
        (ValueMatch("date", "date", (Cond("low", "ge", 1), Cond("high", "le", 9))), "idx_date_low"),
        (ValueMatch("date", "date", (Cond("high", "le", 9),)), "idx_date_high"),
        (ValueMatch("probability", "number", (Cond("value", "gt", 1),)), "idx_number_value"),
        (ValueMatch("value-quantity", "quantity", (Cond("value", "gt", 1),)), "idx_quantity_v"),
        (ValueMatch("value-quantity", "quantity", (Cond("code", "eq", "mg"), Cond("value", "gt", 1))), "idx_quantity_value"),
        (ValueMatch("url", "uri", (Cond("uri", "prefix", "http://x/"),)), "idx_uri_uri"),
        (ValueMatch("subject", "reference", (Cond("target", "in", ("Patient/1", "Patient/2")),)), "idx_reference_target"),
    ]:
        plan = planned.explain(Query("Observation", term))
        assert any(f"COVERING INDEX {index} (param=? AND" in step for step in plan), (term, plan)
        _no_scan(plan)


async def test_the_total_of_a_whole_type_is_counted_in_a_partial_index(planned: SqliteStore) -> None:
    plan = planned.explain(Query("Patient", total=True), count=True)
    # either partial index of (type, ...) holds live rows only: none is read to check its body
    assert len(plan) == 1 and plan[0] in {f"SEARCH r USING INDEX {i} (type=?)" for i in ("resources_type", "resources_type_ts_pk")}, plan
    plan = planned.explain(Query("Patient", limit=20, after=(10, "Patient", "p")))
    assert plan == ["SEARCH r USING INDEX resources_type (type=? AND rowid>?)"], plan


async def test_changed_since_ranges_over_the_type_and_ts_index(planned: SqliteStore) -> None:
    plan = planned.explain(Query("Patient", LastUpdated("gt", 5)))
    assert plan[0] == "SEARCH r USING INDEX resources_type_ts_pk (type=? AND ts>?)", plan
    plan = planned.explain(Query("Patient", sort=(SortKey("_lastUpdated"),)))
    assert plan == ["SEARCH r USING INDEX resources_type_ts_pk (type=?)"], plan  # (type, ts, pk): no sort


async def test_a_file_of_the_previous_schema_is_migrated(tmp_path: Path) -> None:
    path = str(tmp_path / "old.db")
    store = SqliteStore(path)
    await store.open()
    await put(store, "Patient", "p1", 1, ts=1, index=[StringValue("name", "b", "B"), StringValue("name", "z", "Z")])
    await put(store, "Patient", "p2", 1, ts=2, index=[StringValue("name", "c", "C")])
    await put(store, "Patient", "p3", 1, ts=3, deleted=True)
    await store.close()
    with sqlite3.connect(path) as conn:  # what version 0 looked like: (ts, type, id) indexes (version 1 added srt)
        conn.execute("CREATE TABLE srt (pk INTEGER, param TEXT, kind TEXT, lo, hi)")
        conn.execute("CREATE INDEX resources_ts ON resources (ts, type, id)")
        conn.execute("CREATE INDEX resources_type_ts ON resources (type, ts, id)")
        conn.execute("INSERT INTO sqlite_stat1 VALUES ('resources', 'resources_ts', '1000000 2 1 1')")
        conn.execute("PRAGMA user_version = 0")
    await store.open()
    try:
        assert await found(store, "Patient", sort=(SortKey("name", "string"),)) == ["Patient/p1", "Patient/p2"]
        assert await found(store, "Patient", sort=(SortKey("name", "string", True),)) == ["Patient/p1", "Patient/p2"]
        names = {row[0] for row in store._reader.execute("SELECT name FROM sqlite_schema WHERE type = 'index'")}
        assert "resources_ts" not in names and "resources_type_ts" not in names and "resources_type" in names
        assert store._reader.execute("PRAGMA user_version").fetchone() == (2,)
        assert "srt" not in {row[0] for row in store._reader.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
        assert store._reader.execute("SELECT count(*) FROM sqlite_stat1 WHERE idx = 'resources_ts'").fetchone() == (0,)
    finally:
        await store.close()


async def test_bulk_load_is_all_or_nothing_and_as_durable_as_any_write(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "x.db"))
    await store.open()
    try:
        await store.bulk_load([Write(version("Patient", f"p{n}", 1, ts=n), (tok("identifier", str(n)),)) for n in range(3)])
        assert store._w is not None and store._w.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
        with pytest.raises(VersionConflict):
            await store.bulk_load([Write(version("Patient", "p9", 1, ts=9)), Write(version("Patient", "p1", 1, ts=9))])
        assert await found(store, "Patient") == ["Patient/p0", "Patient/p1", "Patient/p2"]
    finally:
        await store.close()


async def test_in_an_and_the_selective_term_drives_and_the_others_are_probed(planned: SqliteStore) -> None:
    both = All((TokenMatch("code", ANY, "29463-7"), ValueMatch("subject", "reference", (Cond("target", "eq", "Patient/p1"),))))
    plan = planned.explain(Query("Observation", both, limit=21))
    driver = plan.index("LIST SUBQUERY 2")
    assert plan[driver + 1].startswith("SEARCH idx_reference USING COVERING INDEX idx_reference_target"), plan
    probe = plan.index("CORRELATED SCALAR SUBQUERY 1")  # the code is checked per candidate, not listed
    assert plan[probe + 1].startswith("SEARCH idx_token USING COVERING INDEX"), plan
    _no_scan(plan)


async def test_a_bulk_session_defers_index_building_and_restores_every_index(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "bulk.db"))
    await store.open()

    def indexes() -> set[str]:
        return {row[0] for row in store._reader.execute("SELECT name FROM sqlite_schema WHERE type = 'index'")}

    before = indexes()
    async with store.bulk():
        assert "idx_token_code" not in indexes() and "history_ts" not in indexes()
        await store.bulk_load([Write(version("Patient", "p1", 1, 10), (tok("identifier", "1", "urn:x"),))])
    assert indexes() == before
    assert await found(store, "Patient", TokenMatch("identifier", "urn:x", "1")) == ["Patient/p1"]
    assert "SEARCH idx_token USING COVERING INDEX idx_token_code" in " ".join(store.explain(Query("Patient", TokenMatch("identifier", "urn:x", "1"))))
    await store.close()
