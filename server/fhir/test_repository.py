"""Single creates and updates worked out ahead of their unit of work (outside the store's write
lock) must leave exactly what the unit alone would, also when another write came in between."""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator

import pytest

from server.auth.access import FULL
from server.config import Settings
from server.fhir.repository import Repository
from server.storage.base import Tx, Version
from server.storage.sqlite.store import SqliteStore

pytestmark = pytest.mark.anyio

Key = list[tuple[str, str, int, int]]


def _keys(versions: list[Version]) -> Key:
    return [(v.type, v.id, v.vid, v.ts) for v in versions]


class Hook:
    """A commit hook that notes what it was told to expect and what the unit really did."""

    def __init__(self) -> None:
        self.guessed: list[Key] = []
        self.seen: list[Key] = []

    def ahead(self, versions: list[Version]) -> None:
        self.guessed.append(_keys(versions))

    async def __call__(self, tx: Tx, versions: list[Version]) -> None:
        self.seen.append(_keys(versions))


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[Repository]:
    store = SqliteStore(str(tmp_path / "r.db"))
    await store.open()
    yield Repository(store, Settings())
    await store.close()


def _patient(family: str, id_: str | None = None) -> dict:
    return {"resourceType": "Patient", **({"id": id_} if id_ else {}), "name": [{"family": family}]}


async def _put(view: Repository, id_: str, family: str):  # type: ignore[no-untyped-def]
    body = _patient(family, id_)
    ahead = await view.ahead_update("Patient", id_, body)
    return await view.atomic(lambda tx: view.update(tx, "Patient", id_, body, ahead=ahead), ahead=ahead)


async def test_a_create_stores_the_write_made_ahead_and_the_hook_guessed_it(repo: Repository) -> None:
    hook = Hook()
    view = repo.scoped(FULL, hook)
    body = _patient("Lê")
    ahead = view.ahead_create("Patient", body)
    assert ahead.write is not None
    result = await view.atomic(lambda tx: view.create(tx, "Patient", body, ahead=ahead), ahead=ahead)
    assert result.status == 201 and result.version == ahead.write.version
    assert (await repo.read("Patient", result.version.id)).body == ahead.write.version.body
    assert hook.guessed == hook.seen == [_keys([result.version])]


async def test_an_update_made_ahead_is_used_when_nothing_changed_meanwhile(repo: Repository) -> None:
    created = await _put(repo, "p1", "Lê")
    hook = Hook()
    view = repo.scoped(FULL, hook)
    result = await _put(view, "p1", "Trần")
    assert (result.status, result.version.vid) == (200, 2)
    assert hook.guessed == hook.seen == [_keys([result.version, created.version])]


async def test_an_update_made_ahead_is_worked_out_again_when_another_write_came_first(repo: Repository) -> None:
    await _put(repo, "p1", "Lê")
    hook = Hook()
    view = repo.scoped(FULL, hook)
    mine = _patient("Trần", "p1")
    ahead = await view.ahead_update("Patient", "p1", mine)  # planned on version 1 ...
    other = await _put(repo, "p1", "Phạm")  # ... another client makes version 2 first
    result = await view.atomic(lambda tx: view.update(tx, "Patient", "p1", mine, ahead=ahead), ahead=ahead)
    assert result.version.vid == 3 and result.resource is not None and result.resource["name"] == [{"family": "Trần"}]
    history = [(v.vid, v.body is not None and b"Ph" in v.body) for v in (await repo.history(_history("p1"))).versions]
    assert sorted(history) == [(1, False), (2, True), (3, False)]  # nothing lost
    assert hook.seen == [_keys([result.version, other.version])] != hook.guessed


async def test_an_unchanged_update_made_ahead_makes_a_version_if_the_resource_changed_meanwhile(repo: Repository) -> None:
    await _put(repo, "p1", "Lê")
    same = _patient("Lê", "p1")
    ahead = await repo.ahead_update("Patient", "p1", same)
    assert ahead.write is None  # equal to version 1: no new version, if that still holds
    await _put(repo, "p1", "Phạm")
    result = await repo.atomic(lambda tx: repo.update(tx, "Patient", "p1", same, ahead=ahead), ahead=ahead)
    assert (result.status, result.version.vid) == (200, 3)
    assert (await repo.read("Patient", "p1")).body == result.version.body and b"Ph" not in (result.version.body or b"")


async def test_an_update_made_ahead_of_a_deletion_recreates_the_resource(repo: Repository) -> None:
    await _put(repo, "p1", "Lê")
    ahead = await repo.ahead_update("Patient", "p1", _patient("Trần", "p1"))
    await repo.atomic(lambda tx: repo.delete(tx, "Patient", "p1"))
    result = await repo.atomic(lambda tx: repo.update(tx, "Patient", "p1", _patient("Trần", "p1"), ahead=ahead), ahead=ahead)
    assert (result.status, result.version.vid) == (201, 3)


def _history(id_: str):  # type: ignore[no-untyped-def]
    from server.storage.base import HistoryQuery

    return HistoryQuery(type="Patient", id=id_, limit=10)
