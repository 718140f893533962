"""What only the SQLite store promises: a WAL file that persists, and a steered planner."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from server.storage.base import HistoryQuery, Query, Tx, Write
from server.storage.index import ANY, Not, TokenMatch
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
        assert plan[0] == "SEARCH r USING INDEX resources_type_ts (type=?)", plan
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
