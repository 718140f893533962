"""The MongoDB store: current versions and their index in one collection, history in another.

``resources`` holds one document per resource (``_id`` = ``Type/id``) with the current
version and its search index as arrays of small sub-documents, one array per value kind
(``tok: [{p, s, c, t}]``, ``str: [{p, n, e}]``...), covered by compound multikey indexes.
``history`` holds every version with ``next_ts`` (the ``ts`` of the version that
superseded it), so "current at" questions are range queries.

Atomic units are multi-document transactions, which MongoDB only offers on a replica
set (a single-node one is enough); :meth:`MongoStore.open` refuses anything else.
A unit is retried as a whole on a ``TransientTransactionError`` (e.g. a write conflict
with a concurrent unit); a commit whose outcome is unknown is retried as a commit, never
by running the unit again (which could turn a success into a false conflict).
"""

from __future__ import annotations

import asyncio
import random
from typing import Any, Awaitable, Callable, Mapping, TypeVar

from bson import Binary
from pymongo import ASCENDING, DESCENDING
from pymongo.errors import ConnectionFailure, DuplicateKeyError, PyMongoError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from ..base import HistoryQuery, Page, Query, Store, StoreConfigError, Tx, Version, VersionConflict, Write
from ..index import (
    ANY,
    All,
    AnyOf,
    DateValue,
    IdIn,
    IndexValue,
    LastUpdated,
    Not,
    NumberValue,
    QuantityValue,
    ReferenceValue,
    StringValue,
    Term,
    TokenMatch,
    TokenValue,
    UnsupportedTerm,
    UriValue,
)

T = TypeVar("T")

#: how many times a unit runs (and a commit is sent) before a transient error is final
MAX_TRIES = 8

_TRANSIENT = "TransientTransactionError"
_UNKNOWN_COMMIT = "UnknownTransactionCommitResult"

REPLICA_SET_HELP = (
    "MongoDB at {where} is not a replica set member, and multi-document transactions "
    "(which make every write atomic) need a replica set; a single node is enough. "
    "Start mongod with `mongod --replSet rs0 --bind_ip localhost --dbpath <dir>` and run "
    "`mongosh --eval 'rs.initiate()'` once, or use the project's compose file "
    "(`docker compose up`)."
)

#: index value class -> (array field, {sub-document key: dataclass attribute})
_INDEX_FIELDS: dict[type, tuple[str, dict[str, str]]] = {
    TokenValue: ("tok", {"s": "system", "c": "code", "t": "text"}),
    StringValue: ("str", {"n": "norm", "e": "exact"}),
    DateValue: ("dt", {"lo": "low", "hi": "high"}),
    ReferenceValue: ("ref", {"t": "target"}),
    NumberValue: ("num", {"v": "value"}),
    QuantityValue: ("qty", {"v": "value", "s": "system", "c": "code"}),
    UriValue: ("uri", {"u": "uri"}),
}

# Index keys lead with the parameter (then type) so a typed lookup seeks on every field it
# constrains and a search across all types can use the same index.
_RESOURCE_INDEXES: dict[str, list[tuple[str, int]]] = {
    "type_ts": [("type", ASCENDING), ("ts", ASCENDING), ("id", ASCENDING)],
    "ts": [("ts", ASCENDING), ("type", ASCENDING), ("id", ASCENDING)],
    "id": [("id", ASCENDING)],
    "tok_code": [("tok.p", ASCENDING), ("tok.c", ASCENDING), ("type", ASCENDING), ("tok.s", ASCENDING)],
    "tok_system": [("tok.p", ASCENDING), ("tok.s", ASCENDING), ("type", ASCENDING)],
    "str": [("str.p", ASCENDING), ("str.n", ASCENDING), ("type", ASCENDING)],
    "dt": [("dt.p", ASCENDING), ("dt.lo", ASCENDING), ("dt.hi", ASCENDING), ("type", ASCENDING)],
    "ref": [("ref.p", ASCENDING), ("ref.t", ASCENDING), ("type", ASCENDING)],
    "num": [("num.p", ASCENDING), ("num.v", ASCENDING), ("type", ASCENDING)],
    "qty": [("qty.p", ASCENDING), ("qty.c", ASCENDING), ("qty.v", ASCENDING), ("type", ASCENDING)],
    "uri": [("uri.p", ASCENDING), ("uri.u", ASCENDING), ("type", ASCENDING)],
}

_VERSION_FIELDS = {"_id": 0, "type": 1, "id": 1, "vid": 1, "ts": 1, "method": 1, "body": 1}
_NOTHING: dict[str, Any] = {"_id": {"$in": []}}


def _key(type_: str, id_: str) -> str:
    return f"{type_}/{id_}"


def _version(doc: Mapping[str, Any]) -> Version:
    body = doc.get("body")
    return Version(doc["type"], doc["id"], doc["vid"], doc["ts"], doc["method"], None if body is None else bytes(body))


def _index_arrays(values: tuple[IndexValue, ...]) -> dict[str, list[dict[str, Any]]]:
    """The index of one version as ``{array field: [sub-documents]}`` (every field present)."""
    arrays: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in _INDEX_FIELDS.values()}
    for value in values:
        try:
            name, keys = _INDEX_FIELDS[type(value)]
        except KeyError:
            raise TypeError(f"not an index value: {value!r}") from None
        arrays[name].append({"p": value.param, **{k: getattr(value, a) for k, a in keys.items()}})
    return arrays


def _resource_doc(write: Write) -> dict[str, Any]:
    v = write.version
    index = write.index if v.body is not None else ()
    return {
        "type": v.type,
        "id": v.id,
        "vid": v.vid,
        "ts": v.ts,
        "method": v.method,
        "body": None if v.body is None else Binary(v.body),
        **_index_arrays(index),
    }


def _history_doc(v: Version) -> dict[str, Any]:
    return {
        "type": v.type,
        "id": v.id,
        "vid": v.vid,
        "ts": v.ts,
        "next_ts": None,
        "method": v.method,
        "body": None if v.body is None else Binary(v.body),
    }


# ------------------------------------------------------------------------ query terms


def _term_filter(term: Term, type_: str | None) -> dict[str, Any]:
    """A filter for one term; ``type_`` (the query's type, if any) narrows ``IdIn`` to ``_id``."""
    handler = _HANDLERS.get(type(term))
    if handler is None:
        raise UnsupportedTerm(f"MongoDB store cannot answer {type(term).__name__}")
    return handler(term, type_)


def _id_in(term: IdIn, type_: str | None) -> dict[str, Any]:
    if type_ is not None:
        return {"_id": {"$in": [_key(type_, i) for i in term.ids]}}
    return {"id": {"$in": list(term.ids)}}


def _token(term: TokenMatch, type_: str | None) -> dict[str, Any]:
    match: dict[str, Any] = {"p": term.param}
    if term.code is not None:
        match["c"] = term.code
    if term.system is not ANY:
        match["s"] = term.system  # None matches values stored without a system
    return {"tok": {"$elemMatch": match}}


_MONGO_OPS = {"lt": "$lt", "le": "$lte", "gt": "$gt", "ge": "$gte"}


def _last_updated(term: LastUpdated, type_: str | None) -> dict[str, Any]:
    return {"ts": {_MONGO_OPS[term.op]: term.value}}


def _all(term: All, type_: str | None) -> dict[str, Any]:
    if not term.terms:
        return {}
    return {"$and": [_term_filter(t, type_) for t in term.terms]}


def _any_of(term: AnyOf, type_: str | None) -> dict[str, Any]:
    if not term.terms:
        return _NOTHING
    return {"$or": [_term_filter(t, type_) for t in term.terms]}


def _not(term: Not, type_: str | None) -> dict[str, Any]:
    return {"$nor": [_term_filter(term.term, type_)]}


_HANDLERS: dict[type, Callable[[Any, str | None], dict[str, Any]]] = {
    IdIn: _id_in,
    TokenMatch: _token,
    LastUpdated: _last_updated,
    All: _all,
    AnyOf: _any_of,
    Not: _not,
}


def search_filter(query: Query) -> dict[str, Any]:
    """The ``resources`` filter of a search: current, not deleted, of the type, matching."""
    parts: list[dict[str, Any]] = [{"body": {"$ne": None}}]
    if query.type is not None:
        parts.append({"type": query.type})
    if query.where is not None:
        parts.append(_term_filter(query.where, query.type))
    return {"$and": parts}


def _search_sort(query: Query) -> list[tuple[str, int]]:
    # With one type, type is constant: leaving it out lets the (type, ts, id) index sort.
    if query.type is not None:
        return [("ts", ASCENDING), ("id", ASCENDING)]
    return [("ts", ASCENDING), ("type", ASCENDING), ("id", ASCENDING)]


def _history_filter(query: HistoryQuery) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    if query.type is not None:
        parts.append({"type": query.type})
    if query.id is not None:
        parts.append({"id": query.id})
    if query.since is not None:
        parts.append({"ts": {"$gte": query.since}})
    if query.till is not None:
        parts.append({"ts": {"$lte": query.till}})
    if query.at is not None:
        low, high = query.at
        parts.append({"ts": {"$lte": high}})
        parts.append({"$or": [{"next_ts": None}, {"next_ts": {"$gt": low}}]})
    return {"$and": parts} if parts else {}


_HISTORY_SORT = [("ts", DESCENDING), ("type", ASCENDING), ("id", ASCENDING), ("vid", DESCENDING)]


# ------------------------------------------------------------------------------- store


class _Collections:
    """The two collections, and the reads/writes shared by the store and its Tx."""

    def __init__(self, db: Any) -> None:
        self.resources = db["resources"]
        self.history = db["history"]

    async def current(self, type_: str, id_: str, session: Any = None) -> Version | None:
        doc = await self.resources.find_one({"_id": _key(type_, id_)}, _VERSION_FIELDS, session=session)
        return None if doc is None else _version(doc)

    async def search(self, query: Query, session: Any = None) -> Page:
        flt = search_filter(query)
        page = Page()
        if query.limit > 0:  # Mongo reads limit 0 as "no limit"
            cursor = (
                self.resources.find(flt, _VERSION_FIELDS, session=session)
                .sort(_search_sort(query))
                .skip(query.offset)
                .limit(query.limit)
            )
            page.versions = [_version(d) for d in await cursor.to_list(None)]
        if query.total:
            page.total = await self.resources.count_documents(flt, session=session)
        return page

    async def write(self, write: Write, session: Any) -> None:
        """Conditional write of the current document, then history; raises VersionConflict."""
        v = write.version
        doc = _resource_doc(write)
        if write.expect_vid is None:
            await self._create(v, doc, session)
        else:
            await self._replace(v, doc, write.expect_vid, session)
            await self.history.update_one(
                {"type": v.type, "id": v.id, "vid": write.expect_vid},
                {"$set": {"next_ts": v.ts}},
                session=session,
            )
        await self.history.insert_one(_history_doc(v), session=session)

    async def _create(self, v: Version, doc: dict[str, Any], session: Any) -> None:
        # An upsert that only inserts: if the document exists nothing happens and no error
        # is raised. (A DuplicateKeyError would abort the server-side transaction, leaving
        # the unit unusable after a VersionConflict, unlike the SQLite store.)
        key = _key(v.type, v.id)
        try:
            result = await self.resources.update_one(
                {"_id": key}, {"$setOnInsert": doc}, upsert=True, session=session
            )
        except DuplicateKeyError:  # only outside a transaction, racing another insert
            raise VersionConflict(v.type, v.id, None, await self._actual_vid(key, None)) from None
        if result.upserted_id is None:
            raise VersionConflict(v.type, v.id, None, await self._actual_vid(key, session))

    async def _replace(self, v: Version, doc: dict[str, Any], expect: int, session: Any) -> None:
        key = _key(v.type, v.id)
        result = await self.resources.replace_one({"_id": key, "vid": expect}, doc, session=session)
        if result.matched_count == 0:
            raise VersionConflict(v.type, v.id, expect, await self._actual_vid(key, session))

    async def _actual_vid(self, key: str, session: Any) -> int | None:
        doc = await self.resources.find_one({"_id": key}, {"vid": 1}, session=session)
        return None if doc is None else doc["vid"]


class _MongoTx(Tx):
    """A unit's view: every read and write carries the transaction's session."""

    def __init__(self, cols: _Collections, session: Any) -> None:
        self._cols = cols
        self._session = session

    async def current(self, type_: str, id_: str) -> Version | None:
        return await self._cols.current(type_, id_, self._session)

    async def search(self, query: Query) -> Page:
        return await self._cols.search(query, self._session)

    async def write(self, write: Write) -> None:
        await self._cols.write(write, self._session)


class _Unset:
    pass


_UNSET = _Unset()


class MongoStore(Store):
    """Resources in a MongoDB replica set; see the module docstring for the design.

    ``client`` injects an already built async client (tests use the in-process emulator);
    otherwise ``open()`` builds ``pymongo.AsyncMongoClient(url)`` and ``close()`` closes it.
    """

    kind = "mongodb"

    def __init__(self, url: str | None = None, *, client: Any = None, database: str = "lienthong") -> None:
        if url is None and client is None:
            raise ValueError("MongoStore needs a url or a client")
        self.url = url
        self.database = database
        self._client = client
        self._owns_client = client is None
        # Looked up on the class: a pymongo client answers any attribute with a database.
        self.kind = getattr(type(client), "kind", "mongodb")
        self._cols: _Collections | None = None

    @property
    def _c(self) -> _Collections:
        if self._cols is None:
            raise RuntimeError("MongoStore is not open")
        return self._cols

    async def open(self) -> None:
        if self._client is None:
            from pymongo import AsyncMongoClient

            self._client = AsyncMongoClient(self.url)
        db = self._client[self.database]
        try:
            await self._require_replica_set(db)
        except StoreConfigError:
            await self.close()
            raise
        self._cols = _Collections(db)
        await self._create_indexes()

    async def _require_replica_set(self, db: Any) -> None:
        where = redact_url(self.url) if self.url else "the given client"
        try:
            hello = await db.command("hello")
        except ConnectionFailure as err:
            raise StoreConfigError(f"cannot reach MongoDB at {where}: {err}") from err
        if not hello.get("setName"):
            raise StoreConfigError(REPLICA_SET_HELP.format(where=where))

    async def _create_indexes(self) -> None:
        for name, keys in _RESOURCE_INDEXES.items():
            await self._c.resources.create_index(keys, name=name)
        history = self._c.history
        await history.create_index(
            [("type", ASCENDING), ("id", ASCENDING), ("vid", ASCENDING)], name="version", unique=True
        )
        await history.create_index([("ts", ASCENDING)], name="ts")
        await history.create_index([("type", ASCENDING), ("ts", ASCENDING)], name="type_ts")

    async def close(self) -> None:
        if self._owns_client and self._client is not None:
            await self._client.close()
            self._client = None
        self._cols = None

    async def atomic(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        cols = self._c
        async with self._client.start_session() as session:
            for attempt in range(1, MAX_TRIES + 1):
                try:
                    return await self._attempt(cols, session, work)
                except PyMongoError as err:
                    if attempt == MAX_TRIES or not err.has_error_label(_TRANSIENT):
                        raise
                await _backoff(attempt)
        raise AssertionError("unreachable")

    @staticmethod
    async def _attempt(cols: _Collections, session: Any, work: Callable[[Tx], Awaitable[T]]) -> T:
        """One run of the unit in one transaction (committed on exit, aborted on exception)."""
        result: T | _Unset = _UNSET
        try:
            async with await session.start_transaction(
                read_concern=ReadConcern("snapshot"), write_concern=WriteConcern(w="majority")
            ):
                result = await work(_MongoTx(cols, session))
        except PyMongoError as err:
            if isinstance(result, _Unset) or not err.has_error_label(_UNKNOWN_COMMIT):
                raise
            await _retry_commit(session, err)
        assert not isinstance(result, _Unset)
        return result

    async def current(self, type_: str, id_: str) -> Version | None:
        return await self._c.current(type_, id_)

    async def version(self, type_: str, id_: str, vid: int) -> Version | None:
        doc = await self._c.history.find_one({"type": type_, "id": id_, "vid": vid}, _VERSION_FIELDS)
        return None if doc is None else _version(doc)

    async def search(self, query: Query) -> Page:
        return await self._c.search(query)

    async def history(self, query: HistoryQuery, *, total: bool = False) -> Page:
        flt = _history_filter(query)
        page = Page()
        if query.limit > 0:
            cursor = self._c.history.find(flt, _VERSION_FIELDS).sort(_HISTORY_SORT).skip(query.offset).limit(query.limit)
            page.versions = [_version(d) for d in await cursor.to_list(None)]
        if total:
            page.total = await self._c.history.count_documents(flt)
        return page

    async def clear(self) -> None:
        await self._c.resources.delete_many({})
        await self._c.history.delete_many({})

    async def explain(self, query: Query) -> dict[str, Any]:
        """The server's ``explain`` of a search (diagnostics and index tests; real servers only)."""
        cursor = self._c.resources.find(search_filter(query), _VERSION_FIELDS).sort(_search_sort(query))
        return await cursor.limit(query.limit).explain()


async def _retry_commit(session: Any, err: PyMongoError) -> None:
    """Send the commit again until its outcome is known (retrying it is safe; the unit is not)."""
    for attempt in range(1, MAX_TRIES):
        await _backoff(attempt)
        try:
            await session.commit_transaction()
            return
        except PyMongoError as again:
            if not again.has_error_label(_UNKNOWN_COMMIT):
                raise
            err = again
    raise err


async def _backoff(attempt: int) -> None:
    """Exponential backoff with jitter: 5 ms, 10 ms, 20 ms... capped at 200 ms."""
    await asyncio.sleep(min(0.2, 0.005 * 2 ** (attempt - 1)) * (0.5 + random.random()))


def redact_url(url: str) -> str:
    """The URL without credentials, for messages."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    hosts = rest.split("/", 1)
    if "@" in hosts[0]:
        hosts[0] = "***@" + hosts[0].rsplit("@", 1)[1]
    return scheme + sep + "/".join(hosts)
