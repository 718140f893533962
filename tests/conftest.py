"""Fixtures shared by every suite: an event loop backend and an empty store of each kind.

MongoDB runs against a real server when ``LIENTHONG_TEST_MONGODB_URI`` is set (a replica
set; each test gets its own database, dropped afterwards), else against the in-process
emulator in ``tests/support/mongo_emulator.py``.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import AsyncIterator

import pytest

from server.storage.base import Store
from server.storage.mongo.store import MongoStore, redact_url
from server.storage.sqlite.store import SqliteStore

try:  # tests/ is a package (tests/__init__.py), the repository root is on sys.path
    from tests.support.mongo_emulator import MONGOMOCK_VERSION, EmulatorClient
except ImportError:  # tests/ has no __init__.py: pytest put tests/ itself on sys.path
    from support.mongo_emulator import MONGOMOCK_VERSION, EmulatorClient  # type: ignore[no-redef]

MONGODB_URI = os.environ.get("LIENTHONG_TEST_MONGODB_URI") or None


def pytest_report_header() -> str:
    if MONGODB_URI:
        return f"mongodb: real server at {redact_url(MONGODB_URI)}"
    return (
        f"mongodb: in-process emulator (mongomock {MONGOMOCK_VERSION}); "
        "transactions emulated by an undo log, no isolation"
    )


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Session-scoped so async fixtures of any scope can use it."""
    return "asyncio"


@pytest.fixture(params=["sqlite", "mongodb"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """An opened, empty store; closed (and, on a real MongoDB, dropped) afterwards."""
    if request.param == "sqlite":
        sqlite = SqliteStore(str(tmp_path / "store" / "lienthong.db"))
        await sqlite.open()
        yield sqlite
        await sqlite.close()
    else:
        async for mongo in _mongo_store():
            yield mongo


async def _mongo_store() -> AsyncIterator[Store]:
    if MONGODB_URI is None:
        store = MongoStore(client=EmulatorClient())
        await store.open()
        yield store
        await store.close()
        return
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient = AsyncMongoClient(MONGODB_URI)
    name = f"lienthong_test_{uuid.uuid4().hex[:16]}"
    store = MongoStore(MONGODB_URI, client=client, database=name)
    try:
        await store.open()
        yield store
        await store.close()
    finally:
        await client.drop_database(name)
        await client.close()
