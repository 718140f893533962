"""The MongoDB store: current versions and their index in one collection, history in another.

``resources`` holds one document per resource (``_id`` = ``Type/id``) with the current
version and its search index as arrays of small sub-documents, one array per value kind
(``tok: [{p, s, c, t}]``, ``str: [{p, n, e}]``...), covered by compound multikey indexes.
``history`` holds every version with ``next_ts`` (the ``ts`` of the version that
superseded it), so "current at" questions are range queries.

Each resource document also carries ``seq``, its creation number (the search order's
tie-break after the sort keys: taken from the ``counters`` collection with a
compare-and-set outside any transaction when the resource is first created, and kept by
updates, deletion and re-creation), and ``srt``, a sub-document per parameter and value
kind, ``{h: 1, lo, hi}``, holding the least ascending and greatest descending sort column
value of its index rows (computed at write time; ``h`` makes missing values sort last).

Atomic units are multi-document transactions, which MongoDB only offers on a replica
set (a single-node one is enough); :meth:`MongoStore.open` refuses anything else.
A unit is retried as a whole on a ``TransientTransactionError`` (e.g. a write conflict
with a concurrent unit); a commit whose outcome is unknown is retried as a commit, never
by running the unit again (which could turn a success into a false conflict).
"""

from __future__ import annotations

import asyncio
import random
import re
from typing import Any, Awaitable, Callable, Iterable, Mapping, Sequence, TypeVar

from bson import Binary
from pymongo import ASCENDING, DESCENDING
from pymongo.errors import BulkWriteError, ConnectionFailure, DuplicateKeyError, PyMongoError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from ..base import HistoryQuery, Page, Query, SortKey, Store, StoreConfigError, Tx, Version, VersionConflict, Write, check_key
from ..index import (
    ANY,
    SORT_COLUMN,
    All,
    AnyOf,
    Cond,
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
    TypeIs,
    UnsupportedTerm,
    UriValue,
    ValueMatch,
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

#: value kind (as :class:`ValueMatch` and :class:`SortKey` name it) -> index value class
_KIND_CLASSES: dict[str, type] = {
    "token": TokenValue,
    "string": StringValue,
    "date": DateValue,
    "reference": ReferenceValue,
    "number": NumberValue,
    "quantity": QuantityValue,
    "uri": UriValue,
}
_CLASS_KINDS: dict[type, str] = {cls: kind for kind, cls in _KIND_CLASSES.items()}

#: value kind -> (array field, {column: sub-document key})
_KIND_FIELDS: dict[str, tuple[str, dict[str, str]]] = {
    kind: (_INDEX_FIELDS[cls][0], {attr: key for key, attr in _INDEX_FIELDS[cls][1].items()})
    for kind, cls in _KIND_CLASSES.items()
}

# Index keys lead with the parameter (then type) so a typed lookup seeks on every field it
# constrains and a search across all types can use the same index.
_RESOURCE_INDEXES: dict[str, list[tuple[str, int]]] = {
    "type_ts": [("type", ASCENDING), ("ts", ASCENDING), ("id", ASCENDING)],
    "ts": [("ts", ASCENDING), ("type", ASCENDING), ("id", ASCENDING)],
    "id": [("id", ASCENDING)],
    "seq": [("seq", ASCENDING)],
    "type_seq": [("type", ASCENDING), ("seq", ASCENDING)],
    "tok_code": [("tok.p", ASCENDING), ("tok.c", ASCENDING), ("type", ASCENDING), ("tok.s", ASCENDING)],
    "tok_system": [("tok.p", ASCENDING), ("tok.s", ASCENDING), ("type", ASCENDING)],
    "str": [("str.p", ASCENDING), ("str.n", ASCENDING), ("type", ASCENDING)],
    "dt": [("dt.p", ASCENDING), ("dt.lo", ASCENDING), ("dt.hi", ASCENDING), ("type", ASCENDING)],
    "dt_hi": [("dt.p", ASCENDING), ("dt.hi", ASCENDING), ("type", ASCENDING)],
    "ref": [("ref.p", ASCENDING), ("ref.t", ASCENDING), ("type", ASCENDING)],
    "num": [("num.p", ASCENDING), ("num.v", ASCENDING), ("type", ASCENDING)],
    "qty": [("qty.p", ASCENDING), ("qty.c", ASCENDING), ("qty.v", ASCENDING), ("type", ASCENDING)],
    "uri": [("uri.p", ASCENDING), ("uri.u", ASCENDING), ("type", ASCENDING)],
}

_VERSION_FIELDS = {"_id": 0, "type": 1, "id": 1, "vid": 1, "ts": 1, "method": 1, "body": 1}
_NOTHING: dict[str, Any] = {"_id": {"$in": []}}

#: the ``counters`` document whose ``n`` is the last creation number handed out
_SEQ_COUNTER = "resources"
#: the ``counters`` document whose ``v`` is the layout version of the documents
_SCHEMA_MARKER = "schema"
#: 1: resource documents carry ``seq`` and ``srt``
_SCHEMA_VERSION = 1


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


def _srt_key(param: str, kind: str) -> str:
    """The ``srt`` field of a parameter and kind (``.`` and ``$`` may not appear in a path)."""
    return f"{kind}:{param}".replace("%", "%25").replace(".", "%2E").replace("$", "%24")


def _sort_doc(values: Iterable[IndexValue]) -> dict[str, dict[str, Any]]:
    """``srt``: per parameter and kind, the least ascending and greatest descending sort value."""
    acc: dict[tuple[str, str], list[Any]] = {}
    for value in values:
        kind = _CLASS_KINDS.get(type(value))
        if kind is None:
            raise TypeError(f"not an index value: {value!r}")
        asc, desc = SORT_COLUMN[kind]
        lo, hi = getattr(value, asc), getattr(value, desc)
        pair = acc.get((value.param, kind))
        if pair is None:
            acc[(value.param, kind)] = [lo, hi]
            continue
        if lo is not None and (pair[0] is None or lo < pair[0]):
            pair[0] = lo
        if hi is not None and (pair[1] is None or hi > pair[1]):
            pair[1] = hi
    return {
        _srt_key(param, kind): {"h": 1, "lo": lo, "hi": hi}
        for (param, kind), (lo, hi) in acc.items()
        if lo is not None or hi is not None
    }


def _stored_values(doc: Mapping[str, Any]) -> list[IndexValue]:
    """The index values a stored document's arrays hold (for migrating old documents)."""
    values: list[IndexValue] = []
    for cls, (name, keys) in _INDEX_FIELDS.items():
        for sub in doc.get(name) or ():
            values.append(cls(sub["p"], **{attr: sub.get(k) for k, attr in keys.items()}))
    return values


def _resource_doc(write: Write) -> dict[str, Any]:
    """The resource document of a write, without ``_id`` and ``seq``."""
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
        "srt": _sort_doc(index),
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


def _type_is(term: TypeIs, type_: str | None) -> dict[str, Any]:
    return {"type": {"$in": list(term.types)}}


def _token(term: TokenMatch, type_: str | None) -> dict[str, Any]:
    match: dict[str, Any] = {"p": term.param}
    if term.code is not None:
        match["c"] = term.code
    if term.system is not ANY:
        match["s"] = term.system  # None matches values stored without a system
    return {"tok": {"$elemMatch": match}}


_MONGO_OPS = {"lt": "$lt", "le": "$lte", "gt": "$gt", "ge": "$gte"}


def prefix_upper(prefix: str) -> str | None:
    """The smallest string above every string starting with ``prefix`` (``None`` if none is).

    MongoDB compares strings by their UTF-8 bytes, i.e. by code point, so ``s`` starts
    with ``prefix`` exactly when ``prefix <= s < prefix_upper(prefix)``.
    """
    chars = list(prefix)
    while chars:
        last = ord(chars.pop()) + 1
        if 0xD800 <= last <= 0xDFFF:  # surrogates cannot be encoded: skip to the next scalar
            last = 0xE000
        if last <= 0x10FFFF:
            return "".join(chars) + chr(last)
    return None


def _cond(kind: str, cond: Cond) -> dict[str, Any]:
    """One condition on one sub-document key (inside ``$elemMatch``)."""
    columns = _KIND_FIELDS[kind][1]
    if cond.column not in columns:
        raise UnsupportedTerm(f"{kind} index values have no column {cond.column!r}")
    field, op, value = columns[cond.column], cond.op, cond.value
    if op == "eq":
        return {field: value}  # None: null (every key is stored, so never "missing")
    if op == "ne":
        return {field: {"$ne": value}}  # a null differs from any value, as in SQLite
    if op in _MONGO_OPS:
        return {field: {_MONGO_OPS[op]: value}}
    if op == "prefix":
        if not isinstance(value, str):
            raise TypeError(f"prefix needs text, not {value!r}")
        if not value:
            return {field: {"$type": "string"}}
        upper = prefix_upper(value)
        if upper is None:
            return {field: {"$gte": value, "$regex": "^" + re.escape(value)}}
        return {field: {"$gte": value, "$lt": upper}}  # a range, so the index bounds it
    if op == "contains":
        if not isinstance(value, str):
            raise TypeError(f"contains needs text, not {value!r}")
        return {field: {"$regex": re.escape(value)}}
    if op == "in":
        if not isinstance(value, (tuple, list)):
            raise TypeError(f"in needs a tuple of values, not {value!r}")
        return {field: {"$in": list(value)}}
    raise UnsupportedTerm(f"unknown condition operator {op!r}")


def _value_match(term: ValueMatch, type_: str | None) -> dict[str, Any]:
    if term.kind not in _KIND_FIELDS:
        raise UnsupportedTerm(f"no index values of kind {term.kind!r}")
    name = _KIND_FIELDS[term.kind][0]
    match: dict[str, Any] = {"p": term.param}
    if term.conds:  # one array element must satisfy them all: a row-level AND
        match["$and"] = [_cond(term.kind, c) for c in term.conds]
    return {name: {"$elemMatch": match}}


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
    TypeIs: _type_is,
    TokenMatch: _token,
    ValueMatch: _value_match,
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


class _Order:
    """The order of a search: its sort keys (from ``srt``), then ``seq`` (unique), type and id."""

    def __init__(self, sort: tuple[SortKey, ...]) -> None:
        #: (field, descending, may be missing, presence flag field or None)
        self.columns: list[tuple[str, bool, bool, str | None]] = []
        self.projection: dict[str, int] = {**_VERSION_FIELDS, "seq": 1}
        for key in sort:
            if key.param == "_id":
                self.columns.append(("id", key.descending, False, None))
            elif key.param == "_lastUpdated":
                self.columns.append(("ts", key.descending, False, None))
            else:
                if key.kind not in SORT_COLUMN:
                    raise UnsupportedTerm(f"cannot sort by values of kind {key.kind!r}")
                path = f"srt.{_srt_key(key.param, key.kind)}"
                self.columns.append((f"{path}.{'hi' if key.descending else 'lo'}", key.descending, True, f"{path}.h"))
                self.projection[path] = 1
        self.columns.append(("seq", False, False, None))
        self.width = len(sort) + 3  # a key: the sort values, seq, type, id

    def sort(self, reverse: bool) -> list[tuple[str, int]]:
        """The sort spec. It ends at ``seq``: being unique, it orders every tie, and a spec
        without type and id lets the ``(type, seq)`` and ``(seq)`` indexes give the order."""
        spec: list[tuple[str, int]] = []
        for field, desc, _, flag in self.columns:
            if flag is not None:  # present values first (last when reversed)
                spec.append((flag, ASCENDING if reverse else DESCENDING))
            spec.append((field, DESCENDING if desc != reverse else ASCENDING))
        return spec

    def values(self, doc: Mapping[str, Any]) -> tuple[Any, ...]:
        out: list[Any] = []
        for field, _, _, _ in self.columns:
            value: Any = doc
            for part in field.split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
            out.append(value)
        return (*out, doc["type"], doc["id"])

    def keyset(self, key: Sequence[Any], after: bool) -> dict[str, Any]:
        """Documents strictly after (or before) ``key`` in this order (``seq`` ends the key)."""
        values = check_key(key, self.width)[: len(self.columns)]
        branches: list[dict[str, Any]] = []
        for n, ((field, desc, nullable, _), value) in enumerate(zip(self.columns, values)):
            if value is None and not nullable:
                raise ValueError(f"search key {list(key)!r} has no value where one is required")
            if after and value is None:
                continue  # nothing sorts after a missing value (they come last)
            parts: list[dict[str, Any]] = [{f: v} for (f, _, _, _), v in zip(self.columns[:n], values[:n])]
            if value is None:  # before a missing value: every present one
                parts.append({field: {"$ne": None}})
            else:
                step = {field: {"$gt" if after != desc else "$lt": value}}
                parts.append({"$or": [step, {field: None}]} if after and nullable else step)
            branches.append({"$and": parts})
        return {"$or": branches} if branches else _NOTHING


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
    if query.types is not None:
        parts.append({"type": {"$in": list(query.types)}})
    return {"$and": parts} if parts else {}


_HISTORY_SORT = [("ts", DESCENDING), ("type", ASCENDING), ("id", ASCENDING), ("vid", DESCENDING)]


# ------------------------------------------------------------------------------- store


def _record_id(kind: str, key: str) -> str:
    return f"{kind}\x00{key}"



class _Collections:
    """The collections, and the reads/writes shared by the store and its Tx."""

    def __init__(self, db: Any) -> None:
        self.resources = db["resources"]
        self.history = db["history"]
        self.counters = db["counters"]
        self.records = db["records"]

    async def current(self, type_: str, id_: str, session: Any = None) -> Version | None:
        doc = await self.resources.find_one({"_id": _key(type_, id_)}, _VERSION_FIELDS, session=session)
        return None if doc is None else _version(doc)

    async def search(self, query: Query, session: Any = None) -> Page:
        order = _Order(query.sort)
        flt = search_filter(query)
        page = Page()
        if query.limit > 0:  # Mongo reads limit 0 as "no limit"
            parts = [flt]
            for key, after in ((query.after, True), (query.before, False)):
                if key is not None:
                    parts.append(order.keyset(key, after))
            cursor = (
                self.resources.find({"$and": parts} if len(parts) > 1 else flt, order.projection, session=session)
                .sort(order.sort(reverse=query.before is not None))
                .skip(query.offset)
                .limit(query.limit)
            )
            docs = await cursor.to_list(None)
            if query.before is not None:
                docs.reverse()
            page.versions = [_version(d) for d in docs]
            page.keys = [order.values(d) for d in docs]
        if query.total:
            page.total = await self.resources.count_documents(flt, session=session)
        return page

    async def reserve_seq(self, n: int = 1) -> int:
        """The first of ``n`` new consecutive creation numbers.

        A compare-and-set on the counter, outside any transaction: concurrent units never
        conflict over it (a unit that rolls back leaves a gap, which orders nothing wrongly).
        """
        while True:
            doc = await self.counters.find_one({"_id": _SEQ_COUNTER})
            last = 0 if doc is None else doc["n"]
            if doc is None:
                result = await self.counters.update_one(
                    {"_id": _SEQ_COUNTER}, {"$setOnInsert": {"n": n}}, upsert=True
                )
                if result.upserted_id is not None:
                    return 1
                continue
            result = await self.counters.update_one({"_id": _SEQ_COUNTER, "n": last}, {"$set": {"n": last + n}})
            if result.matched_count == 1:
                return last + 1

    async def write(self, write: Write, session: Any) -> None:
        """Conditional write of the current document, then history; raises VersionConflict."""
        v = write.version
        doc = _resource_doc(write)
        if write.in_place:
            if write.expect_vid != v.vid or v.body is None:
                raise VersionConflict(v.type, v.id, write.expect_vid, None)
            await self._replace(v, doc, v.vid, session)
            await self.history.update_one({"type": v.type, "id": v.id, "vid": v.vid}, {"$set": {"body": doc["body"]}}, session=session)
            return
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
        doc = {**doc, "seq": await self.reserve_seq()}  # a conflict leaves a harmless gap
        try:
            result = await self.resources.update_one(
                {"_id": key}, {"$setOnInsert": doc}, upsert=True, session=session
            )
        except DuplicateKeyError:  # only outside a transaction, racing another insert
            raise VersionConflict(v.type, v.id, None, await self._actual_vid(key, None)) from None
        if result.upserted_id is None:
            raise VersionConflict(v.type, v.id, None, await self._actual_vid(key, session))

    async def _replace(self, v: Version, doc: dict[str, Any], expect: int, session: Any) -> None:
        # $set of every field but seq: the creation number stays.
        key = _key(v.type, v.id)
        result = await self.resources.update_one({"_id": key, "vid": expect}, {"$set": doc}, session=session)
        if result.matched_count == 0:
            raise VersionConflict(v.type, v.id, expect, await self._actual_vid(key, session))

    async def _actual_vid(self, key: str, session: Any) -> int | None:
        doc = await self.resources.find_one({"_id": key}, {"vid": 1}, session=session)
        return None if doc is None else doc["vid"]

    async def insert_new(self, docs: list[dict[str, Any]], history: list[dict[str, Any]], session: Any) -> None:
        """Insert new resource documents (with ``_id`` and ``seq``) and their first versions.

        Existing ones are looked for first (one ``$in`` on ``_id`` per 10 000): a duplicate
        key error inside a transaction aborts it, after which the conflict could not be
        described (the current version could not be read any more).
        """
        for start in range(0, len(docs), 10_000):
            ids = [d["_id"] for d in docs[start : start + 10_000]]
            cursor = self.resources.find({"_id": {"$in": ids}}, {"type": 1, "id": 1, "vid": 1}, session=session)
            taken = await cursor.limit(1).to_list(None)
            if taken:
                raise VersionConflict(taken[0]["type"], taken[0]["id"], None, taken[0]["vid"])
        await self._insert_all(self.resources, docs, session)
        await self._insert_all(self.history, history, session)

    @staticmethod
    async def _insert_all(collection: Any, docs: list[dict[str, Any]], session: Any) -> None:
        """``insert_many``; a duplicate (created meanwhile by another writer) is a VersionConflict."""
        if not hasattr(type(collection), "insert_many"):  # the test emulator has insert_one only
            for doc in docs:
                try:
                    await collection.insert_one(doc, session=session)
                except DuplicateKeyError:
                    raise VersionConflict(doc["type"], doc["id"], None, None) from None
            return
        try:
            await collection.insert_many(docs, ordered=True, session=session)
        except BulkWriteError as err:
            first = (err.details.get("writeErrors") or [{}])[0]
            if first.get("code") != 11000:
                raise
            op = first.get("op") or {}
            raise VersionConflict(op.get("type", "?"), op.get("id", "?"), None, None) from None


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
        await self._migrate()

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

    async def _migrate(self) -> None:
        """Give documents written by an older version their ``seq`` and ``srt`` (idempotent).

        Such documents are numbered in ``(ts, type, id)`` order, after any numbered ones.
        """
        marker = await self._c.counters.find_one({"_id": _SCHEMA_MARKER})
        if marker is not None and marker.get("v", 0) >= _SCHEMA_VERSION:
            return
        resources = self._c.resources
        old = {"$or": [{"seq": {"$exists": False}}, {"srt": {"$exists": False}}]}
        count = await resources.count_documents(old)
        if count:
            await self._number_old_documents(old, count)
        await self._c.counters.update_one({"_id": _SCHEMA_MARKER}, {"$set": {"v": _SCHEMA_VERSION}}, upsert=True)

    async def _number_old_documents(self, old: dict[str, Any], count: int) -> None:
        resources = self._c.resources
        last = await resources.find({"seq": {"$exists": True}}, {"seq": 1}).sort([("seq", DESCENDING)]).limit(1).to_list(None)
        floor = last[0]["seq"] if last else 0
        counter = await self._c.counters.find_one({"_id": _SEQ_COUNTER})
        if counter is None or counter["n"] < floor:
            await self._c.counters.update_one({"_id": _SEQ_COUNTER}, {"$max": {"n": floor}}, upsert=True)
        seq = await self._c.reserve_seq(count)
        cursor = resources.find(old).sort([("ts", ASCENDING), ("type", ASCENDING), ("id", ASCENDING)])
        async for doc in cursor:
            change: dict[str, Any] = {"srt": _sort_doc(_stored_values(doc) if doc.get("body") is not None else [])}
            if "seq" not in doc:
                change["seq"] = seq
                seq += 1
            await resources.update_one({"_id": doc["_id"]}, {"$set": change})

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

    async def reindex(self, version: Version, index: tuple[IndexValue, ...]) -> bool:
        if version.body is None:
            return False
        done = await self._c.resources.update_one(
            {"_id": _key(version.type, version.id), "vid": version.vid},
            {"$set": {**_index_arrays(index), "srt": _sort_doc(index)}},
        )
        return done.matched_count == 1

    async def bulk_load(self, writes: Iterable[Write]) -> None:
        """New resources in one transaction (``insert_many``), numbered by one counter step.

        A resource that exists already (or twice in the batch) raises
        :class:`VersionConflict` and nothing is written.
        """
        items = list(writes)
        if not items:
            return
        seen: set[str] = set()
        for w in items:
            v = w.version
            if w.expect_vid is not None or v.body is None:
                raise ValueError(f"bulk_load takes new resources only ({v.type}/{v.id} is not one)")
            key = _key(v.type, v.id)
            if key in seen:
                raise VersionConflict(v.type, v.id, None, v.vid)
            seen.add(key)
        first = await self._c.reserve_seq(len(items))
        docs = [
            {"_id": _key(w.version.type, w.version.id), **_resource_doc(w), "seq": seq}
            for seq, w in enumerate(items, first)
        ]
        history = [_history_doc(w.version) for w in items]

        async def work(tx: Tx) -> None:
            assert isinstance(tx, _MongoTx)
            await tx._cols.insert_new(docs, history, tx._session)

        await self.atomic(work)

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

    async def get_record(self, kind: str, key: str) -> dict[str, Any] | None:
        doc = await self._c.records.find_one({"_id": _record_id(kind, key)})
        return None if doc is None else doc["body"]

    async def put_record(self, kind: str, key: str, body: dict[str, Any]) -> None:
        doc = {"_id": _record_id(kind, key), "kind": kind, "key": key, "body": body}
        await self._c.records.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    async def add_record(self, kind: str, key: str, body: dict[str, Any]) -> bool:
        try:
            await self._c.records.insert_one({"_id": _record_id(kind, key), "kind": kind, "key": key, "body": body})
        except DuplicateKeyError:
            return False
        return True

    async def take_record(self, kind: str, key: str) -> dict[str, Any] | None:
        doc = await self._c.records.find_one_and_delete({"_id": _record_id(kind, key)})
        return None if doc is None else doc["body"]

    async def list_records(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        docs = await self._c.records.find({"kind": kind}).sort([("key", ASCENDING)]).to_list(None)
        return [(d["key"], d["body"]) for d in docs]

    async def explain(self, query: Query) -> dict[str, Any]:
        """The server's ``explain`` of a search (diagnostics and index tests; real servers only)."""
        order = _Order(query.sort)
        cursor = self._c.resources.find(search_filter(query), order.projection).sort(order.sort(reverse=False))
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
