"""Small builders the storage tests share (imported as ``storage_helpers``: pytest puts this directory on sys.path)."""

from __future__ import annotations

from typing import Iterable

import orjson

from server.storage.base import Method, Query, Store, Version, Write
from server.storage.index import IndexValue, Term, TokenValue

_AUTO = object()


def body(type_: str, id_: str, vid: int, **extra: object) -> bytes:
    return orjson.dumps({"resourceType": type_, "id": id_, "meta": {"versionId": str(vid)}, **extra})


def tok(param: str, code: str | None, system: str | None = None) -> TokenValue:
    return TokenValue(param, system, code)


def version(type_: str, id_: str, vid: int, ts: int, *, deleted: bool = False, method: Method | None = None) -> Version:
    method = method or ("DELETE" if deleted else "POST" if vid == 1 else "PUT")
    return Version(type_, id_, vid, ts, method, None if deleted else body(type_, id_, vid))


async def put(
    store: Store,
    type_: str,
    id_: str,
    vid: int,
    ts: int,
    index: Iterable[IndexValue] = (),
    *,
    deleted: bool = False,
    expect: object = _AUTO,
) -> Version:
    """Write one version in its own unit; ``expect`` defaults to the previous vid."""
    v = version(type_, id_, vid, ts, deleted=deleted)
    expect_vid = (vid - 1 or None) if expect is _AUTO else expect
    await store.atomic(lambda tx: tx.write(Write(v, tuple(index), expect_vid)))  # type: ignore[arg-type]
    return v


async def found(store: Store, type_: str | None, where: Term | None = None, **kw: object) -> list[str]:
    """``Type/id`` of each search match, in result order."""
    page = await store.search(Query(type_, where, **kw))  # type: ignore[arg-type]
    return [f"{v.type}/{v.id}" for v in page.versions]


def refs(versions: Iterable[Version]) -> list[str]:
    """``Type/id/vid`` of each version, in order."""
    return [f"{v.type}/{v.id}/{v.vid}" for v in versions]
