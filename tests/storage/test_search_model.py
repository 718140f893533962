"""Random queries checked against a plain-Python model of the search semantics.

The hand-written cases in test_conformance.py and test_search_terms.py pin the meaning of
each term; this throws a few hundred random term trees (nested All/AnyOf/Not over every
term kind, ValueMatch with random row-level conditions on every value kind) with random
sort keys at each store and compares matches, order, keyset paging, offsets and totals
with the model, whose term evaluation is :mod:`server.storage.matching` (the in-process
reading of terms that access control applies to single versions): SQL, MongoDB queries and
plain Python must agree.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from typing import Any

import orjson
import pytest

from server.storage.base import Query, SortKey, Store
from server.storage.index import (
    ANY,
    KIND_COLUMNS,
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
    UriValue,
    ValueMatch,
)
from server.storage.matching import KIND_OF, holds
from storage_helpers import put

pytestmark = pytest.mark.anyio

TYPES = ("Patient", "Observation", "Encounter")
IDS = tuple(f"r{i}" for i in range(10))

#: per kind: the parameters used and each column's domain (small, so values collide)
PARAMS = {
    "token": ("identifier", "code"),
    "string": ("name", "family"),
    "date": ("date",),
    "reference": ("subject", "general"),
    "number": ("probability",),
    "quantity": ("value-quantity",),
    "uri": ("url",),
}
TEXT = {
    ("token", "system"): (None, "urn:a", "urn:b"),
    ("token", "code"): (None, "1", "2", "3", "10"),
    ("token", "text"): (None, "alpha beta", "beta", "Gamma"),
    ("string", "norm"): ("an", "anh", "bao", "nguyen van a", "nguyen vanh", "đo", "ða", ""),
    ("string", "exact"): ("An", "Anh", "Bảo", "Nguyễn Văn A", "Đỗ"),
    ("reference", "target"): ("Patient/1", "Patient/2", "Patient/10", "Group/1", "http://x.org/Patient/1"),
    ("quantity", "system"): (None, "http://unitsofmeasure.org"),
    ("quantity", "code"): (None, "mg", "kg"),
    ("uri", "uri"): ("http://a.org/x", "http://a.org/x/y", "http://b.org/x", "urn:z"),
}
NUMBERS = {
    ("date", "low"): tuple(range(0, 100, 10)),
    ("date", "high"): tuple(range(0, 130, 10)),
    ("number", "value"): (0.5, 1, 2.5, 3, 100),
    ("quantity", "value"): (1.0, 5.5, 10, 0),
}


def domain(kind: str, column: str) -> tuple[Any, ...]:
    return TEXT.get((kind, column)) or NUMBERS[(kind, column)]


def _value(rnd: random.Random, kind: str) -> IndexValue:
    param = rnd.choice(PARAMS[kind])

    def pick(column: str) -> Any:
        return rnd.choice(domain(kind, column))

    if kind == "token":
        return TokenValue(param, pick("system"), pick("code"), pick("text"))
    if kind == "string":
        return StringValue(param, pick("norm"), pick("exact"))
    if kind == "date":
        low = pick("low")
        return DateValue(param, low, low + rnd.choice((0, 5, 20, 30)))
    if kind == "reference":
        return ReferenceValue(param, pick("target"))
    if kind == "number":
        return NumberValue(param, pick("value"))
    if kind == "quantity":
        return QuantityValue(param, pick("value"), pick("system"), pick("code"))
    return UriValue(param, pick("uri"))


@dataclass
class Doc:
    type: str
    id: str
    seq: int  # creation order
    ts: int = 0
    vid: int = 0
    values: tuple[IndexValue, ...] = ()
    deleted: bool = False


def _values(rnd: random.Random) -> tuple[IndexValue, ...]:
    return tuple(_value(rnd, rnd.choice(list(PARAMS))) for _ in range(rnd.randint(0, 7)))


# ------------------------------------------------------------------------------ terms


def _cond(rnd: random.Random, kind: str) -> Cond:
    column = rnd.choice(KIND_COLUMNS[kind])
    values = domain(kind, column)
    text = (kind, column) in TEXT
    ops = ["eq", "ne", "lt", "le", "gt", "ge", "in"] + (["prefix", "prefix", "contains"] if text else [])
    op = rnd.choice(ops)
    present = [v for v in values if v is not None]
    if op in ("eq", "ne"):
        return Cond(column, op, rnd.choice(values + (None,)))
    if op == "in":
        return Cond(column, op, tuple(rnd.sample(present, rnd.randint(0, min(3, len(present))))))
    if op in ("prefix", "contains"):
        source = rnd.choice(present)
        start = 0 if op == "prefix" else rnd.randint(0, len(source))
        return Cond(column, op, source[start : rnd.randint(start, len(source))])
    if text:
        return Cond(column, op, rnd.choice(present + ["b", "nguyen", "Patient/", "http://a.org/x/"]))
    return Cond(column, op, rnd.choice(present) + rnd.choice((0, 0, 1, -1)))


def _term(rnd: random.Random, depth: int = 0) -> Term:
    kinds = ["token", "value", "value", "value", "id", "ts", "type"] + (["all", "any", "not"] if depth < 3 else [])
    kind = rnd.choice(kinds)
    if kind == "token":
        return TokenMatch(rnd.choice(PARAMS["token"]), rnd.choice((ANY, None, "urn:a", "urn:b")), rnd.choice((None, "1", "2", "3")))
    if kind == "value":
        value_kind = rnd.choice(list(PARAMS))
        param = rnd.choice(PARAMS[value_kind] + ("unused",))
        return ValueMatch(param, value_kind, tuple(_cond(rnd, value_kind) for _ in range(rnd.choice((0, 1, 1, 2, 2, 3)))))
    if kind == "id":
        return IdIn(tuple(rnd.sample(IDS, rnd.randint(0, 4))))
    if kind == "ts":
        return LastUpdated(rnd.choice(["lt", "le", "gt", "ge"]), rnd.randint(0, 9) * 10)
    if kind == "type":
        return TypeIs(tuple(rnd.sample(TYPES, rnd.randint(0, 2))))
    if kind == "not":
        return Not(_term(rnd, depth + 1))
    parts = tuple(_term(rnd, depth + 1) for _ in range(rnd.randint(0, 3)))
    return All(parts) if kind == "all" else AnyOf(parts)


def _sort(rnd: random.Random) -> tuple[SortKey, ...]:
    keys = []
    for _ in range(rnd.choice((0, 1, 1, 1, 2, 2, 3))):
        choice = rnd.random()
        if choice < 0.1:
            keys.append(SortKey("_id", "token", rnd.random() < 0.5))
        elif choice < 0.2:
            keys.append(SortKey("_lastUpdated", "date", rnd.random() < 0.5))
        else:
            kind = rnd.choice(list(PARAMS))
            keys.append(SortKey(rnd.choice(PARAMS[kind] + ("unused",)), kind, rnd.random() < 0.5))
    return tuple(keys)


# ------------------------------------------------------------------------------ model


def _holds(term: Term, doc: Doc) -> bool:
    """The in-process evaluator the access guard uses: stores and it must agree on every term."""
    return holds(term, doc.type, doc.id, doc.ts, doc.values)


def sort_value(doc: Doc, key: SortKey) -> Any:
    """The value ``doc`` sorts by: the least (ascending) or greatest (descending) of its values."""
    if key.param == "_id":
        return doc.id
    if key.param == "_lastUpdated":
        return doc.ts
    column = SORT_COLUMN[key.kind][1 if key.descending else 0]
    found = [getattr(v, column) for v in doc.values if KIND_OF[type(v)] == key.kind and v.param == key.param]
    found = [v for v in found if v is not None]
    if not found:
        return None
    return max(found) if key.descending else min(found)


def ordered(docs: list[Doc], sort: tuple[SortKey, ...]) -> list[Doc]:
    def compare(a: Doc, b: Doc) -> int:
        for key in sort:
            va, vb = sort_value(a, key), sort_value(b, key)
            if va == vb:
                continue
            if va is None or vb is None:
                return 1 if va is None else -1  # missing values last, either way
            c = (va > vb) - (va < vb)
            return -c if key.descending else c
        return (a.seq > b.seq) - (a.seq < b.seq)

    return sorted(docs, key=functools.cmp_to_key(compare))


def matches(docs: list[Doc], query: Query) -> list[Doc]:
    hits = [
        d
        for d in docs
        if not d.deleted and query.type in (None, d.type) and (query.where is None or _holds(query.where, d))
    ]
    return ordered(hits, query.sort)


def names(docs: list[Doc]) -> list[str]:
    return [f"{d.type}/{d.id}" for d in docs]


# ------------------------------------------------------------------------------- test


async def _load(store: Store, rnd: random.Random) -> list[Doc]:
    """Create the documents in a random order, then update, delete and re-create some."""
    pairs = [(t, i) for t in TYPES for i in IDS]
    rnd.shuffle(pairs)
    docs = []
    for seq, (type_, id_) in enumerate(pairs):
        doc = Doc(type_, id_, seq, ts=rnd.randint(1, 8) * 10, vid=1, values=_values(rnd))
        await put(store, type_, id_, 1, ts=doc.ts, index=doc.values, expect=None)
        docs.append(doc)
    for doc in rnd.sample(docs, 12):  # updates keep the creation order, whatever their ts
        doc.vid += 1
        doc.ts = rnd.randint(0, 9) * 10
        doc.values = _values(rnd)
        await put(store, doc.type, doc.id, doc.vid, ts=doc.ts, index=doc.values)
    for doc in rnd.sample(docs, 8):
        doc.vid += 1
        doc.ts += 1
        doc.deleted = True
        await put(store, doc.type, doc.id, doc.vid, ts=doc.ts, index=doc.values, deleted=True)
    for doc in rnd.sample([d for d in docs if d.deleted], 3):  # re-created: the old position
        doc.vid += 1
        doc.ts += 1
        doc.deleted = False
        doc.values = _values(rnd)
        await put(store, doc.type, doc.id, doc.vid, ts=doc.ts, index=doc.values)
    return docs


def _json(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """A key as a client hands it back (through JSON)."""
    return tuple(orjson.loads(orjson.dumps(key)))


async def test_random_queries_agree_with_the_model(store: Store) -> None:
    rnd = random.Random(20250611)
    docs = await _load(store, rnd)
    keyset_checks = 0
    for n in range(250):
        query = Query(rnd.choice((None,) + TYPES), _term(rnd), sort=_sort(rnd), total=True)
        expected = matches(docs, query)
        page = await store.search(query)
        assert (names_of(page), page.total) == (names(expected), len(expected)), f"query #{n}: {query}"
        assert len(page.keys) == len(page.versions)
        for key, doc in zip(page.keys, expected):
            assert _json(key) == tuple(key)
            assert list(key[: len(query.sort)]) == [sort_value(doc, k) for k in query.sort], f"query #{n}: {query}"
        if not expected:
            continue
        # keyset paging from a random position, both ways, with a random offset and limit
        for _ in range(2):
            i = rnd.randrange(len(expected))
            key = _json(page.keys[i])
            offset, limit = rnd.choice((0, 0, 1, 3)), rnd.choice((1, 2, 5, 100))
            after = await store.search(Query(query.type, query.where, query.sort, after=key, offset=offset, limit=limit, total=True))
            want = expected[i + 1 :][offset : offset + limit]
            assert (names_of(after), after.total) == (names(want), len(expected)), f"query #{n} after #{i}: {query}"
            before = await store.search(Query(query.type, query.where, query.sort, before=key, offset=offset, limit=limit))
            want = expected[:i][::-1][offset : offset + limit][::-1]
            assert names_of(before) == names(want), f"query #{n} before #{i}: {query}"
            assert before.keys == [page.keys[expected.index(d)] for d in want]
            keyset_checks += 1
        # plain offset paging
        offset, limit = rnd.choice((0, 2, 7)), rnd.choice((100, 3, 1))
        paged = await store.search(Query(query.type, query.where, query.sort, offset=offset, limit=limit))
        assert names_of(paged) == names(expected[offset : offset + limit]), f"query #{n} offset: {query}"
    assert keyset_checks > 100


def names_of(page: Any) -> list[str]:
    return [f"{v.type}/{v.id}" for v in page.versions]
