"""Random queries checked against a plain-Python model of the search semantics.

The hand-written cases in test_conformance.py pin the meaning of each term; this
throws a few hundred random term trees (nested All/AnyOf/Not over every term kind)
at each store and compares matches, order, paging and totals with the model.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from server.storage.base import Query, Store
from server.storage.index import ANY, All, AnyOf, IdIn, LastUpdated, Not, Term, TokenMatch, TokenValue
from storage_helpers import put, tok

pytestmark = pytest.mark.anyio

TYPES = ("Patient", "Observation")
PARAMS = ("identifier", "code")
SYSTEMS = (None, "urn:a", "urn:b")
CODES = ("1", "2", "3")
IDS = tuple(f"r{i}" for i in range(12))


@dataclass(frozen=True)
class Doc:
    type: str
    id: str
    ts: int
    tokens: tuple[TokenValue, ...]
    deleted: bool


def _docs(rnd: random.Random) -> list[Doc]:
    docs = []
    for type_ in TYPES:
        for id_ in IDS:
            tokens = tuple(
                tok(rnd.choice(PARAMS), rnd.choice(CODES + (None,)), rnd.choice(SYSTEMS)) for _ in range(rnd.randint(0, 3))
            )
            docs.append(Doc(type_, id_, rnd.randint(1, 8) * 10, tokens, rnd.random() < 0.15))
    return docs


def _term(rnd: random.Random, depth: int = 0) -> Term:
    kind = rnd.choice(["token", "token", "id", "ts"] + (["all", "any", "not"] if depth < 3 else []))
    if kind == "token":
        system = rnd.choice((ANY,) + SYSTEMS)
        return TokenMatch(rnd.choice(PARAMS), system, rnd.choice(CODES + (None,)))
    if kind == "id":
        return IdIn(tuple(rnd.sample(IDS, rnd.randint(0, 4))))
    if kind == "ts":
        return LastUpdated(rnd.choice(["lt", "le", "gt", "ge"]), rnd.randint(0, 9) * 10)
    if kind == "not":
        return Not(_term(rnd, depth + 1))
    parts = tuple(_term(rnd, depth + 1) for _ in range(rnd.randint(0, 3)))
    return All(parts) if kind == "all" else AnyOf(parts)


def _holds(term: Term, doc: Doc) -> bool:
    match term:
        case IdIn(ids):
            return doc.id in ids
        case TokenMatch(param, system, code):
            return any(
                t.param == param and (code is None or t.code == code) and (system is ANY or t.system == system)
                for t in doc.tokens
            )
        case LastUpdated(op, value):
            return {"lt": doc.ts < value, "le": doc.ts <= value, "gt": doc.ts > value, "ge": doc.ts >= value}[op]
        case All(terms):
            return all(_holds(t, doc) for t in terms)
        case AnyOf(terms):
            return any(_holds(t, doc) for t in terms)
        case Not(inner):
            return not _holds(inner, doc)
    raise AssertionError(term)


def _expected(docs: list[Doc], query: Query) -> tuple[list[str], int]:
    hits = sorted(
        (d for d in docs if not d.deleted and query.type in (None, d.type) and (query.where is None or _holds(query.where, d))),
        key=lambda d: (d.ts, d.type, d.id),
    )
    page = hits[query.offset : query.offset + query.limit]
    return [f"{d.type}/{d.id}" for d in page], len(hits)


async def test_random_queries_agree_with_the_model(store: Store) -> None:
    rnd = random.Random(20250611)
    docs = _docs(rnd)
    for d in docs:
        await put(store, d.type, d.id, 1, ts=d.ts, index=d.tokens)
        if d.deleted:
            await put(store, d.type, d.id, 2, ts=d.ts, deleted=True)
    for n in range(300):
        query = Query(
            rnd.choice((None,) + TYPES),
            _term(rnd),
            offset=rnd.choice([0, 0, 0, 2, 7]),
            limit=rnd.choice([100, 100, 3, 1]),
            total=True,
        )
        page = await store.search(query)
        got = [f"{v.type}/{v.id}" for v in page.versions]
        assert (got, page.total) == _expected(docs, query), f"query #{n}: {query}"
