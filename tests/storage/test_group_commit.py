"""The SQLite store's write path: group commit, and waiting for another process's lock off the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import AsyncIterator

import pytest

from server.storage.base import StoreBusy, Tx, VersionConflict, Write
from server.storage.index import ANY, TokenMatch
from server.storage.sqlite.store import SqliteStore
from storage_helpers import found, put, tok, version

pytestmark = pytest.mark.anyio


class Boom(Exception):
    pass


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(str(tmp_path / "x.db"), lock_timeout=5)
    await s.open()
    yield s
    await s.close()


def _create(n: int, *, fail: bool = False):  # type: ignore[no-untyped-def]
    async def work(tx: Tx) -> int:
        await tx.write(Write(version("Patient", f"p{n}", 1, ts=n), (tok("identifier", str(n)),)))
        if fail:
            raise Boom(n)
        return n

    return work


async def _held(store: SqliteStore) -> tuple[asyncio.Event, asyncio.Task[None]]:
    """A unit that keeps the transaction open until the returned event is set, so the
    units started meanwhile queue up for the next group."""
    release, running = asyncio.Event(), asyncio.Event()

    async def hold(tx: Tx) -> None:
        running.set()
        await release.wait()

    task = asyncio.create_task(store.atomic(hold))
    await running.wait()
    return release, task


async def test_units_arriving_meanwhile_share_one_commit_and_a_failing_one_rolls_back_alone(store: SqliteStore) -> None:
    release, first = await _held(store)
    commits = store.group.commits
    units = [asyncio.create_task(store.atomic(_create(n, fail=n == 3))) for n in range(6)]
    await asyncio.sleep(0.01)
    assert not any(u.done() for u in units)  # queued behind the open transaction
    release.set()
    await first
    outcomes = await asyncio.gather(*units, return_exceptions=True)
    assert [o if not isinstance(o, Boom) else "boom" for o in outcomes] == [0, 1, 2, "boom", 4, 5]
    assert store.group.commits == commits + 2  # the held unit's, then one for all six
    assert await found(store, "Patient") == ["Patient/p0", "Patient/p1", "Patient/p2", "Patient/p4", "Patient/p5"]
    assert await found(store, "Patient", TokenMatch("identifier", ANY, "3")) == []


async def test_every_caller_is_answered_only_after_its_commit(store: SqliteStore) -> None:
    events: list[str] = []
    store._w.set_trace_callback(lambda sql: events.append(sql.split()[0]) if sql.split()[0] in ("BEGIN", "COMMIT") else None)  # type: ignore[union-attr]
    release, first = await _held(store)

    async def unit(n: int) -> None:
        try:
            await store.atomic(_create(n, fail=n == 1))
        except Boom:
            pass
        events.append(f"answered {n}")

    units = [asyncio.create_task(unit(n)) for n in range(4)]
    await asyncio.sleep(0.01)
    release.set()
    await asyncio.gather(first, *units)
    assert events[:3] == ["BEGIN", "COMMIT", "BEGIN"]
    assert events[3] == "COMMIT" and sorted(events[4:]) == [f"answered {n}" for n in range(4)]


async def test_version_checks_of_units_in_one_group_let_exactly_one_win(store: SqliteStore) -> None:
    await put(store, "Patient", "p1", 1, ts=1)
    release, first = await _held(store)

    async def update(n: int) -> None:
        await store.atomic(lambda tx: tx.write(Write(version("Patient", "p1", 2, ts=10 + n), expect_vid=1)))

    units = [asyncio.create_task(update(n)) for n in range(5)]
    await asyncio.sleep(0.01)
    release.set()
    await first
    outcomes = await asyncio.gather(*units, return_exceptions=True)
    assert sum(o is None for o in outcomes) == 1
    assert sum(isinstance(o, VersionConflict) for o in outcomes) == 4
    current = await store.current("Patient", "p1")
    assert current is not None and current.vid == 2


async def test_a_caller_cancelled_while_queued_leaves_the_others_alone(store: SqliteStore) -> None:
    release, first = await _held(store)
    units = [asyncio.create_task(store.atomic(_create(n))) for n in range(3)]
    await asyncio.sleep(0.01)
    units[1].cancel()
    release.set()
    await first
    outcomes = await asyncio.gather(*units, return_exceptions=True)
    assert outcomes[0] == 0 and isinstance(outcomes[1], asyncio.CancelledError) and outcomes[2] == 2
    assert await found(store, "Patient") == ["Patient/p0", "Patient/p2"]


async def test_atomic_inside_a_unit_is_refused_not_a_deadlock(store: SqliteStore) -> None:
    async def nested(tx: Tx) -> None:
        await store.atomic(_create(1))

    with pytest.raises(RuntimeError, match="re-entrant"):
        await asyncio.wait_for(store.atomic(nested), timeout=5)


async def test_a_batch_is_one_commit_with_a_savepoint_per_work(store: SqliteStore) -> None:
    commits = store.group.commits
    results = await store.atomic_batch([_create(1), _create(2, fail=True), _create(3)])
    assert results[0] == 1 and isinstance(results[1], Boom) and results[2] == 3
    assert store.group.commits == commits + 1
    assert await found(store, "Patient") == ["Patient/p1", "Patient/p3"]


async def test_a_cancelled_batch_is_undone_whole(store: SqliteStore) -> None:
    started = asyncio.Event()

    async def stall(tx: Tx) -> None:
        started.set()
        await asyncio.sleep(3600)

    task = asyncio.create_task(store.atomic_batch([_create(1), stall, _create(3)]))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await found(store, "Patient") == []
    assert await asyncio.wait_for(store.atomic(_create(4)), timeout=5) == 4


# ------------------------------------------------------------- another process holds the lock


def _lock_from_another_connection(path: str) -> sqlite3.Connection:
    """What another worker process in the middle of a write looks like: the write lock held."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


async def test_reads_go_on_while_a_writer_waits_for_another_process(store: SqliteStore) -> None:
    await put(store, "Patient", "p0", 1, ts=1, index=[tok("identifier", "0")])
    other = _lock_from_another_connection(store.path)
    try:
        writer = asyncio.create_task(store.atomic(_create(1)))
        await asyncio.sleep(0.05)
        assert not writer.done()  # waiting for the lock ...
        started = time.monotonic()
        current = await asyncio.wait_for(store.current("Patient", "p0"), timeout=1)  # ... but not blocking reads
        assert current is not None and current.vid == 1
        assert await asyncio.wait_for(found(store, "Patient"), timeout=1) == ["Patient/p0"]
        await asyncio.sleep(0.01)  # the loop itself is free too
        assert time.monotonic() - started < 0.5
        assert not writer.done()
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert await asyncio.wait_for(writer, timeout=5) == 1
    assert await found(store, "Patient") == ["Patient/p0", "Patient/p1"]


async def test_a_lock_never_released_fails_the_write_after_the_timeout(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "x.db"), lock_timeout=0.2)
    await store.open()
    other = _lock_from_another_connection(store.path)
    try:
        started = time.monotonic()
        with pytest.raises(StoreBusy, match="locked"):
            await store.atomic(_create(1))
        assert time.monotonic() - started < 2
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert await store.atomic(_create(2)) == 2  # and the store goes on
    await store.close()


async def test_commits_wait_for_the_disk(store: SqliteStore) -> None:
    """``synchronous=FULL``: a unit is answered once its commit is on disk, not just written."""
    assert store._w is not None and store._w.execute("PRAGMA synchronous").fetchone() == (2,)
