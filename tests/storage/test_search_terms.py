"""ValueMatch, TypeIs, sort keys, keyset paging and bulk_load: one suite for every store.

Hand-written cases pinning the meaning of each condition operator per value kind, the
row-level correlation of conditions, :missing, sort order (nulls last both ways, ties by
creation order), keyset round trips and bulk loading. test_search_model.py throws random
combinations of the same at the stores.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from server.fhir.resource_types import RESOURCE_TYPES
from server.fhir.search.deferred import Chain, resolve
from server.fhir.search.registry import SearchRegistry
from server.storage.base import HistoryQuery, Query, SortKey, Store, Version, VersionConflict, Write
from server.storage.index import (
    ANY,
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
    TokenMatch,
    TokenValue,
    TypeIs,
    UnsupportedTerm,
    UriValue,
    ValueMatch,
)
from storage_helpers import body, found, put, refs, tok

pytestmark = pytest.mark.anyio

UCUM = "http://unitsofmeasure.org"

#: id -> index values; created in this order (a, b, c, d, e), all Patients
_VALUES: dict[str, list[IndexValue]] = {
    "a": [
        TokenValue("identifier", "urn:cccd", "001", "CCCD 001"),
        TokenValue("gender", None, "female"),
        StringValue("name", "nguyen van an", "Nguyễn Văn An"),
        StringValue("name", "an", "An"),
        DateValue("birthdate", 100, 199),
        ReferenceValue("organization", "Organization/o1"),
        NumberValue("probability", 0.5),
        QuantityValue("weight", 60.0, UCUM, "kg"),
        UriValue("url", "http://example.org/fhir/a"),
    ],
    "b": [
        TokenValue("identifier", "urn:hospital", "002", None),
        TokenValue("gender", None, "male"),
        StringValue("name", "nguyen vanh", "Nguyễn Vanh"),
        StringValue("name", "tran thi binh", "Trần Thị Bình"),
        DateValue("birthdate", 300, 399),
        DateValue("birthdate", 50, 60),
        ReferenceValue("organization", "Organization/o2"),
        ReferenceValue("general-practitioner", "Practitioner/d1"),
        NumberValue("probability", 2),
        QuantityValue("weight", 80.5, UCUM, "kg"),
        QuantityValue("weight", 170000, UCUM, "g"),
        UriValue("url", "http://example.org/fhir/b/x"),
    ],
    "c": [
        TokenValue("identifier", None, "003", "ma 003"),
        StringValue("name", "đo thi cuc", "Đỗ Thị Cúc"),
        DateValue("birthdate", 200, 200),
        ReferenceValue("organization", "http://other.org/Organization/o1"),
        NumberValue("probability", 1.5),
        QuantityValue("weight", 5.0, None, None),
        UriValue("url", "urn:uuid:c"),
    ],
    "d": [TokenValue("gender", None, "unknown")],  # hardly any values: sorts last
    "e": [
        StringValue("name", "le an", "Lê An"),
        DateValue("birthdate", 10, 1000),
        NumberValue("probability", -1),
    ],
}


async def _load(store: Store) -> None:
    for n, (id_, values) in enumerate(_VALUES.items()):
        await put(store, "Patient", id_, 1, ts=100 * (n + 1), index=values)
    await put(store, "Observation", "o1", 1, ts=50, index=[ReferenceValue("subject", "Patient/a"), tok("code", "8867-4", "http://loinc.org")])
    await put(store, "Encounter", "e1", 1, ts=60, index=[ReferenceValue("subject", "Patient/a"), ReferenceValue("participant", "Patient/a")])


async def _ids(store: Store, term: Any, type_: str | None = "Patient", **kw: Any) -> list[str]:
    return [r.split("/", 1)[1] for r in await found(store, type_, term, **kw)]


def vm(param: str, kind: str, *conds: tuple[str, str, Any]) -> ValueMatch:
    return ValueMatch(param, kind, tuple(Cond(c, op, v) for c, op, v in conds))


# ------------------------------------------------------------------------- ValueMatch


@pytest.mark.parametrize(
    ("conds", "expected"),
    [
        ((("system", "eq", "urn:cccd"),), ["a"]),
        ((("system", "eq", None),), ["c"]),
        ((("system", "ne", "urn:cccd"),), ["b", "c"]),  # a null system differs from a value
        ((("system", "ne", None),), ["a", "b"]),
        ((("code", "eq", "002"),), ["b"]),
        ((("code", "in", ("001", "003", "zzz")),), ["a", "c"]),
        ((("code", "in", ()),), []),
        ((("code", "lt", "002"),), ["a"]),
        ((("code", "le", "002"),), ["a", "b"]),
        ((("code", "gt", "002"),), ["c"]),
        ((("code", "ge", "002"),), ["b", "c"]),
        ((("code", "prefix", "00"),), ["a", "b", "c"]),
        ((("text", "contains", "00"),), ["a", "c"]),
        ((("text", "contains", "cccd"),), []),  # contains is exact (case-sensitive) text
        ((("text", "eq", None),), ["b"]),
        ((("system", "eq", "urn:cccd"), ("code", "eq", "002")), []),  # one row must hold both
        ((("system", "eq", "urn:hospital"), ("code", "eq", "002")), ["b"]),
    ],
)
async def test_value_match_token(store: Store, conds: tuple, expected: list[str]) -> None:
    await _load(store)
    assert await _ids(store, vm("identifier", "token", *conds)) == expected


@pytest.mark.parametrize(
    ("conds", "expected"),
    [
        ((("norm", "prefix", "nguyen van"),), ["a", "b"]),  # "nguyen vanh" starts with it too
        ((("norm", "prefix", "nguyen van "),), ["a"]),
        ((("norm", "prefix", "an"),), ["a"]),
        ((("norm", "prefix", "đ"),), ["c"]),  # not folded by the store: d and đ differ
        ((("norm", "prefix", "d"),), []),
        ((("norm", "prefix", ""),), ["a", "b", "c", "e"]),
        ((("norm", "eq", "an"),), ["a"]),
        ((("norm", "eq", "nguyen"),), []),
        ((("exact", "eq", "Nguyễn Văn An"),), ["a"]),
        ((("exact", "eq", "nguyen van an"),), []),
        ((("norm", "contains", " an"),), ["a", "e"]),
        ((("exact", "contains", "Thị"),), ["b", "c"]),
        ((("norm", "lt", "b"),), ["a"]),
        ((("norm", "ge", "t"),), ["b", "c"]),  # đ (U+0111) sorts after every ASCII letter
        ((("norm", "in", ("le an", "an")),), ["a", "e"]),
        ((("norm", "ne", "an"),), ["a", "b", "c", "e"]),  # a has another name
        ((("norm", "prefix", "nguyen"), ("exact", "contains", "Bình")), []),
        ((("norm", "prefix", "tran"), ("exact", "contains", "Bình")), ["b"]),
    ],
)
async def test_value_match_string(store: Store, conds: tuple, expected: list[str]) -> None:
    await _load(store)
    assert await _ids(store, vm("name", "string", *conds)) == expected


@pytest.mark.parametrize(
    ("conds", "expected"),
    [
        ((("low", "ge", 100), ("high", "le", 250)), ["a", "c"]),
        # b has [300, 399] and [50, 60]: low >= 250 holds on one, high <= 100 on the other
        ((("low", "ge", 250), ("high", "le", 100)), []),
        ((("low", "ge", 250),), ["b"]),
        ((("high", "le", 100),), ["b"]),
        ((("low", "ge", 40), ("high", "le", 70)), ["b"]),
        ((("low", "ge", 55), ("high", "le", 250)), ["a", "c"]),
        ((("low", "le", 200), ("high", "ge", 200)), ["c", "e"]),
        ((("low", "lt", 100),), ["b", "e"]),
        ((("high", "gt", 399),), ["e"]),
        ((("low", "eq", 200),), ["c"]),
        ((("low", "ne", 200),), ["a", "b", "e"]),
        ((("low", "in", (10, 300)),), ["b", "e"]),
        ((("high", "eq", None),), []),
    ],
)
async def test_value_match_date_is_row_level(store: Store, conds: tuple, expected: list[str]) -> None:
    await _load(store)
    assert await _ids(store, vm("birthdate", "date", *conds)) == expected


async def test_value_match_reference_number_quantity_uri(store: Store) -> None:
    await _load(store)
    assert await _ids(store, vm("organization", "reference", ("target", "eq", "Organization/o1"))) == ["a"]
    assert await _ids(store, vm("organization", "reference", ("target", "prefix", "Organization/"))) == ["a", "b"]
    assert await _ids(store, vm("organization", "reference", ("target", "contains", "/o1"))) == ["a", "c"]
    assert await _ids(store, vm("organization", "reference", ("target", "in", ("Organization/o2", "x")))) == ["b"]
    assert await _ids(store, vm("organization", "reference", ("target", "ne", "Organization/o1"))) == ["b", "c"]
    # the parameter is part of the match
    assert await _ids(store, vm("general-practitioner", "reference", ("target", "eq", "Organization/o2"))) == []

    assert await _ids(store, vm("probability", "number", ("value", "eq", 2))) == ["b"]
    assert await _ids(store, vm("probability", "number", ("value", "lt", 1.5))) == ["a", "e"]
    assert await _ids(store, vm("probability", "number", ("value", "le", 1.5))) == ["a", "c", "e"]
    assert await _ids(store, vm("probability", "number", ("value", "gt", 0), ("value", "lt", 2))) == ["a", "c"]
    assert await _ids(store, vm("probability", "number", ("value", "ge", 2))) == ["b"]
    assert await _ids(store, vm("probability", "number", ("value", "ne", 2))) == ["a", "c", "e"]
    assert await _ids(store, vm("probability", "number", ("value", "in", (0.5, -1)))) == ["a", "e"]

    kg = ("code", "eq", "kg")
    assert await _ids(store, vm("weight", "quantity", ("value", "gt", 70), kg)) == ["b"]
    assert await _ids(store, vm("weight", "quantity", ("value", "gt", 1000))) == ["b"]
    # b weighs 170000 g and 80.5 kg: "> 1000 kg" must hold on one row
    assert await _ids(store, vm("weight", "quantity", ("value", "gt", 1000), kg)) == []
    assert await _ids(store, vm("weight", "quantity", ("system", "eq", None))) == ["c"]
    assert await _ids(store, vm("weight", "quantity", ("value", "le", 60), ("system", "eq", UCUM), kg)) == ["a"]

    assert await _ids(store, vm("url", "uri", ("uri", "eq", "urn:uuid:c"))) == ["c"]
    assert await _ids(store, vm("url", "uri", ("uri", "prefix", "http://example.org/fhir/"))) == ["a", "b"]
    assert await _ids(store, vm("url", "uri", ("uri", "prefix", "http://example.org/fhir/b/"))) == ["b"]
    assert await _ids(store, vm("url", "uri", ("uri", "contains", "uuid"))) == ["c"]


async def test_a_chain_of_chains_resolves_to_reference_terms_on_every_store(store: Store) -> None:
    """``Encounter?subject:Patient.organization.name=bach``: each level is an inner search
    (innermost first) whose matches become a reference ``in`` list; the store never sees a Chain."""
    await _load(store)  # Patient a -> Organization/o1, b -> Organization/o2; Encounter e1 -> Patient/a
    await put(store, "Organization", "o1", 1, ts=700, index=[StringValue("name", "benh vien bach mai", "Bệnh viện Bạch Mai")])
    await put(store, "Organization", "o2", 1, ts=710, index=[StringValue("name", "benh vien cho ray", "Bệnh viện Chợ Rẫy")])
    await put(store, "Encounter", "e2", 1, ts=720, index=[ReferenceValue("subject", "Patient/b")])
    registry = SearchRegistry(RESOURCE_TYPES)

    async def encounters(name: str) -> list[str]:
        chain = Chain("subject", "Patient", Chain("organization", "Organization", vm("name", "string", ("norm", "prefix", name))))
        where = await resolve(chain, store.search, registry)
        assert isinstance(where, ValueMatch)  # a plain term: no joins in any store
        return await _ids(store, where, "Encounter")

    assert await encounters("benh vien bach") == ["e1"]
    assert await encounters("benh vien cho") == ["e2"]
    assert sorted(await encounters("benh vien")) == ["e1", "e2"]
    assert await encounters("x") == []


async def test_missing_and_present(store: Store) -> None:
    await _load(store)
    assert await _ids(store, ValueMatch("identifier", "token")) == ["a", "b", "c"]  # :missing=false
    assert await _ids(store, Not(ValueMatch("identifier", "token"))) == ["d", "e"]  # :missing=true
    assert await _ids(store, ValueMatch("birthdate", "date")) == ["a", "b", "c", "e"]
    assert await _ids(store, Not(ValueMatch("birthdate", "date"))) == ["d"]
    assert await _ids(store, ValueMatch("nothing", "string")) == []
    assert await _ids(store, Not(ValueMatch("nothing", "string"))) == ["a", "b", "c", "d", "e"]
    # the kind is part of the match: birthdate has no string values
    assert await _ids(store, ValueMatch("birthdate", "string")) == []


async def test_deleted_resources_never_match(store: Store) -> None:
    await _load(store)
    await put(store, "Patient", "a", 2, ts=900, index=_VALUES["a"], deleted=True)
    assert await _ids(store, vm("name", "string", ("norm", "prefix", "nguyen"))) == ["b"]
    assert await _ids(store, ValueMatch("identifier", "token")) == ["b", "c"]
    assert await _ids(store, Not(ValueMatch("identifier", "token"))) == ["d", "e"]
    assert await _ids(store, TypeIs(("Patient",)), None) == ["b", "c", "d", "e"]
    page = await store.search(Query("Patient", vm("name", "string", ("norm", "prefix", "")), total=True))
    assert page.total == 3
    page = await store.search(Query(None, AnyOf((ValueMatch("subject", "reference"), ValueMatch("name", "string"))), total=True))
    assert page.total == 5


async def test_value_match_combines_with_the_other_terms(store: Store) -> None:
    await _load(store)
    female = TokenMatch("gender", ANY, "female")
    nguyen = vm("name", "string", ("norm", "prefix", "nguyen"))
    assert await _ids(store, All((nguyen, Not(female)))) == ["b"]
    assert await _ids(store, AnyOf((female, vm("probability", "number", ("value", "lt", 0))))) == ["a", "e"]
    assert await _ids(store, AnyOf((nguyen, IdIn(("d",)), LastUpdated("ge", 500)))) == ["a", "b", "d", "e"]
    assert await _ids(store, Not(AnyOf((nguyen, ValueMatch("gender", "token"))))) == ["c", "e"]


async def test_type_is(store: Store) -> None:
    await _load(store)
    assert await found(store, None, TypeIs(("Observation", "Encounter"))) == ["Observation/o1", "Encounter/e1"]
    assert await found(store, None, TypeIs(())) == []
    assert await found(store, "Patient", TypeIs(("Observation",))) == []
    assert await found(store, None, Not(TypeIs(("Patient",)))) == ["Observation/o1", "Encounter/e1"]
    patient_a = AnyOf(tuple(vm(p, "reference", ("target", "eq", "Patient/a")) for p in ("subject", "participant", "patient")))
    assert await found(store, None, All((TypeIs(("Encounter", "Observation", "Condition")), patient_a)), total=True) == [
        "Observation/o1",
        "Encounter/e1",
    ]
    page = await store.search(Query(None, All((TypeIs(("Encounter",)), patient_a)), total=True))
    assert refs(page.versions) == ["Encounter/e1/1"] and page.total == 1


async def test_unknown_kinds_columns_and_operators_are_refused(store: Store) -> None:
    for term in (
        ValueMatch("x", "geo"),
        vm("x", "string", ("low", "eq", 1)),
        vm("x", "token", ("norm", "eq", "a")),
        vm("x", "string", ("norm", "like", "a")),
    ):
        with pytest.raises(UnsupportedTerm):
            await store.search(Query("Patient", term))
    with pytest.raises(UnsupportedTerm):
        await store.search(Query("Patient", sort=(SortKey("x", "geo"),)))


async def test_prefix_bounds_at_the_edges_of_unicode(store: Store) -> None:
    names = ["a\U0010ffff", "a\U0010ffffb", "b", "\ud7ffx", "\ue000", "\U0010ffffz", "\U0010ffff"]
    for n, name in enumerate(names):
        await put(store, "Patient", f"p{n}", 1, ts=n + 1, index=[StringValue("name", name, name)])
    assert await _ids(store, vm("name", "string", ("norm", "prefix", "a\U0010ffff"))) == ["p0", "p1"]
    assert await _ids(store, vm("name", "string", ("norm", "prefix", "\ud7ff"))) == ["p3"]  # next: U+E000
    assert await _ids(store, vm("name", "string", ("norm", "prefix", "a"))) == ["p0", "p1"]
    assert await _ids(store, vm("name", "string", ("norm", "prefix", "\U0010ffff"))) == ["p5", "p6"]  # no upper bound
    assert await _ids(store, vm("name", "string", ("norm", "prefix", "\U0010ffffz"))) == ["p5"]


# ------------------------------------------------------------------------------- sort


async def _sorted(store: Store, *sort: SortKey, type_: str = "Patient", **kw: Any) -> list[str]:
    page = await store.search(Query(type_, sort=sort, **kw))
    return [v.id for v in page.versions]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        # every kind ascending (by each resource's least value) and descending (greatest)
        (SortKey("name", "string"), ["a", "e", "b", "c", "d"]),  # an < le an < nguyen vanh < đo (đ after z)
        (SortKey("name", "string", True), ["c", "b", "a", "e", "d"]),
        (SortKey("identifier", "token"), ["a", "b", "c", "d", "e"]),
        (SortKey("identifier", "token", True), ["c", "b", "a", "d", "e"]),
        (SortKey("birthdate", "date"), ["e", "b", "a", "c", "d"]),  # by low: 10, 50, 100, 200
        (SortKey("birthdate", "date", True), ["e", "b", "c", "a", "d"]),  # by high: 1000, 399, 200, 199
        (SortKey("organization", "reference"), ["a", "b", "c", "d", "e"]),
        (SortKey("organization", "reference", True), ["c", "b", "a", "d", "e"]),
        (SortKey("probability", "number"), ["e", "a", "c", "b", "d"]),
        (SortKey("probability", "number", True), ["b", "c", "a", "e", "d"]),
        (SortKey("weight", "quantity"), ["c", "a", "b", "d", "e"]),  # b: least is 80.5
        (SortKey("weight", "quantity", True), ["b", "a", "c", "d", "e"]),  # b: greatest is 170000
        (SortKey("url", "uri"), ["a", "b", "c", "d", "e"]),
        (SortKey("url", "uri", True), ["c", "b", "a", "d", "e"]),
        (SortKey("nothing", "string"), ["a", "b", "c", "d", "e"]),  # no values: creation order
        (SortKey("nothing", "string", True), ["a", "b", "c", "d", "e"]),
    ],
)
async def test_sort_by_each_kind_with_missing_values_last(store: Store, key: SortKey, expected: list[str]) -> None:
    await _load(store)
    assert await _sorted(store, key) == expected
    page = await store.search(Query("Patient", sort=(key,)))
    assert len(page.keys) == 5 and all(len(k) == 4 for k in page.keys)
    assert [k[2:] for k in page.keys] == [("Patient", i) for i in expected]


async def test_sort_by_id_last_updated_and_several_keys(store: Store) -> None:
    for id_, ts, gender, family in [
        ("p3", 30, "male", "tran"),
        ("p1", 10, "female", "le"),
        ("p4", 5, "male", "le"),
        ("p2", 20, None, "tran"),
        ("p5", 20, "female", None),
    ]:
        index = [v for v in (gender and tok("gender", gender), family and StringValue("family", family, family)) if v]
        await put(store, "Patient", id_, 1, ts=ts, index=index)
    await put(store, "Observation", "p0", 1, ts=1)
    assert await _sorted(store, SortKey("_id")) == ["p1", "p2", "p3", "p4", "p5"]
    assert await _sorted(store, SortKey("_id", descending=True)) == ["p5", "p4", "p3", "p2", "p1"]
    assert await _sorted(store, SortKey("_lastUpdated")) == ["p4", "p1", "p2", "p5", "p3"]  # p2/p5 tie: creation
    assert await _sorted(store, SortKey("_lastUpdated", descending=True)) == ["p3", "p2", "p5", "p1", "p4"]
    assert await _sorted(store, SortKey("_id"), type_=None) == ["p0", "p1", "p2", "p3", "p4", "p5"]  # type no matter
    gender, family = SortKey("gender", "token"), SortKey("family", "string")
    assert await _sorted(store, gender, family) == ["p1", "p5", "p4", "p3", "p2"]
    assert await _sorted(store, gender, SortKey("family", "string", True)) == ["p1", "p5", "p3", "p4", "p2"]
    assert await _sorted(store, SortKey("gender", "token", True), family) == ["p4", "p3", "p1", "p5", "p2"]
    assert await _sorted(store, family, SortKey("_lastUpdated", descending=True)) == ["p1", "p4", "p3", "p2", "p5"]
    page = await store.search(Query("Patient", sort=(gender, SortKey("_lastUpdated"))))
    assert page.keys[0][:2] == ("female", 10) and page.keys[-1][0] is None
    assert orjson.loads(orjson.dumps(page.keys)) == [list(k) for k in page.keys]


async def test_creation_order_survives_updates_deletion_and_recreation(store: Store) -> None:
    for n, id_ in enumerate(("x", "y", "z")):
        await put(store, "Patient", id_, 1, ts=100 + n, index=[tok("gender", "male")])
    assert await _ids(store, None) == ["x", "y", "z"]
    await put(store, "Patient", "x", 2, ts=500, index=[tok("gender", "female")])  # updated last
    assert await _ids(store, None) == ["x", "y", "z"]
    assert await _sorted(store, SortKey("_lastUpdated")) == ["y", "z", "x"]
    await put(store, "Patient", "y", 2, ts=600, deleted=True)
    assert await _ids(store, None) == ["x", "z"]
    await put(store, "Patient", "y", 3, ts=700, index=[tok("gender", "male")], expect=2)
    assert await _ids(store, None) == ["x", "y", "z"]
    # ties of a sort key come in creation order too
    assert await _sorted(store, SortKey("gender", "token", True)) == ["y", "z", "x"]


# ----------------------------------------------------------------------- keyset paging


SORTS = [
    (),
    (SortKey("name", "string"),),
    (SortKey("birthdate", "date", True),),
    (SortKey("gender", "token"), SortKey("probability", "number", True)),
    (SortKey("_id", descending=True),),
    (SortKey("_lastUpdated"), SortKey("weight", "quantity")),
]


async def _walk(store: Store, query: Query) -> tuple[list[str], list[tuple]]:
    """Every page forward (``after`` the last key), then back (``before`` the first)."""
    forward, keys, key = [], [], None
    for _ in range(50):
        page = await store.search(Query(query.type, query.where, query.sort, after=key, limit=query.limit))
        forward += [v.id for v in page.versions]
        keys += page.keys
        if len(page.versions) < query.limit:
            break
        key = tuple(orjson.loads(orjson.dumps(page.keys[-1])))  # a client's cursor is JSON
    backward: list[str] = []
    key = tuple(orjson.loads(orjson.dumps(keys[-1]))) if keys else None
    backward = [forward[-1]] if forward else []
    while key is not None:
        page = await store.search(Query(query.type, query.where, query.sort, before=key, limit=query.limit))
        backward = [v.id for v in page.versions] + backward
        key = tuple(page.keys[0]) if len(page.versions) == query.limit else None
    assert backward == forward
    return forward, keys


@pytest.mark.parametrize("sort", SORTS, ids=lambda s: ",".join(("-" if k.descending else "") + k.param for k in s) or "none")
async def test_keyset_pages_forward_and_back_give_the_same_sequence(store: Store, sort: tuple[SortKey, ...]) -> None:
    await _load(store)
    for n in range(8):  # more Patients, some with equal sort values, some without any
        await put(store, "Patient", f"x{n}", 1, ts=600 + n % 3, index=[
            StringValue("name", f"x{n % 3}", "X"), tok("gender", ("male", "female", None)[n % 3]),
            NumberValue("probability", n % 2), DateValue("birthdate", n, n + 10),
        ][: n % 5])
    everything = await _sorted(store, *sort, limit=100)
    assert len(everything) == 13
    for limit in (1, 2, 5):
        forward, keys = await _walk(store, Query("Patient", sort=sort, limit=limit))
        assert forward == everything
        assert len(keys) == 13 and len(set(map(tuple, keys))) == 13


async def test_keyset_before_returns_the_rows_just_before_in_forward_order(store: Store) -> None:
    for n in range(10):
        await put(store, "Patient", f"p{n}", 1, ts=n)
    page = await store.search(Query("Patient", limit=10))
    keys = page.keys
    ids = lambda p: [v.id for v in p.versions]  # noqa: E731
    assert ids(await store.search(Query("Patient", before=keys[7], limit=3))) == ["p4", "p5", "p6"]
    assert ids(await store.search(Query("Patient", before=keys[2], limit=5))) == ["p0", "p1"]
    assert ids(await store.search(Query("Patient", before=keys[0], limit=5))) == []
    assert ids(await store.search(Query("Patient", after=keys[9], limit=5))) == []
    assert ids(await store.search(Query("Patient", after=keys[3], limit=2, offset=2))) == ["p6", "p7"]
    assert ids(await store.search(Query("Patient", before=keys[7], limit=2, offset=1))) == ["p4", "p5"]
    both = await store.search(Query("Patient", after=keys[2], before=keys[6], limit=10))
    assert ids(both) == ["p3", "p4", "p5"]
    counted = await store.search(Query("Patient", after=keys[7], limit=1, total=True))
    assert ids(counted) == ["p8"] and counted.total == 10  # the total ignores paging
    assert (await store.search(Query("Patient", before=keys[2], offset=1, total=True))).total == 10
    before = await store.search(Query("Patient", before=keys[5], limit=2))
    assert before.keys == keys[3:5]


async def test_keyset_paging_is_stable_while_resources_are_added_and_updated(store: Store) -> None:
    sorts = ((), (SortKey("name", "string"),), (SortKey("name", "string", True),), (SortKey("_id", descending=True),))
    for t, sort in enumerate(sorts):
        type_ = f"T{t}"  # one type per sort: each walk starts from the same ten resources
        originals = [f"p{n}" for n in range(10)]
        for n, id_ in enumerate(originals):
            await put(store, type_, id_, 1, ts=100 + n, index=[StringValue("name", f"n{n % 4}", "N")])
        seen: list[str] = []
        key = None
        for step in range(30):
            page = await store.search(Query(type_, sort=sort, after=key, limit=3))
            seen += [v.id for v in page.versions]
            if len(page.versions) < 3:
                break
            key = page.keys[-1]
            # between pages: new resources sorting before, among and after the seen ones ...
            for n in range(2):
                await put(store, type_, f"new{step}-{n}", 1, ts=5, index=[StringValue("name", f"n{n * 3}", "N")])
            # ... and an update (later ts, same sort value) of an old one
            old = originals[step % 10]
            current = await store.current(type_, old)
            assert current is not None
            await put(store, type_, old, current.vid + 1, ts=1_000 + step, index=[StringValue("name", f"n{int(old[1:]) % 4}", "N")])
        else:
            pytest.fail("paging did not reach the end")
        assert len(seen) == len(set(seen)), (sort, seen)  # nothing twice
        assert set(originals) <= set(seen), (sort, seen)  # nothing that existed skipped
        if not sort:  # creation order: new resources come after every old one
            assert seen[:10] == originals


async def test_bad_keys_are_refused(store: Store) -> None:
    await put(store, "Patient", "p1", 1, ts=1)
    for key in (
        (1,),
        (1, "Patient"),
        ("x", 1, "Patient", "p1"),
        ([1], "Patient", "p1"),
        ({"a": 1}, "Patient", "p1"),
        (True, "Patient", "p1"),
        (2**70, "Patient", "p1"),
        (None, "Patient", "p1"),  # the creation number is never missing
    ):
        with pytest.raises(ValueError):
            await store.search(Query("Patient", after=key))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        await store.search(Query("Patient", sort=(SortKey("name"),), before=(None,)))
    page = await store.search(Query("Patient", sort=(SortKey("name"),)))
    assert page.keys[0][0] is None
    assert refs((await store.search(Query("Patient", sort=(SortKey("name"),), before=page.keys[0]))).versions) == []


async def test_totals_with_every_kind_of_condition(store: Store) -> None:
    await _load(store)
    for term, expected in [
        (vm("name", "string", ("norm", "prefix", "nguyen")), 2),
        (vm("name", "string", ("norm", "prefix", "")), 4),  # a and b have two matching rows: counted once
        (ValueMatch("birthdate", "date"), 4),
        (AnyOf((vm("name", "string", ("norm", "prefix", "nguyen")), ValueMatch("birthdate", "date"))), 4),
        (AnyOf((ValueMatch("birthdate", "date"),)), 4),
        (TokenMatch("identifier", ANY, None), 3),
        (All((ValueMatch("birthdate", "date"), Not(ValueMatch("identifier", "token")))), 1),
    ]:
        page = await store.search(Query("Patient", term, limit=1, total=True))
        assert page.total == expected, term
    assert (await store.search(Query(None, ValueMatch("subject", "reference"), total=True))).total == 2


# ------------------------------------------------------------------------------ bulk load


def _new(type_: str, id_: str, ts: int, *index: IndexValue) -> Write:
    return Write(Version(type_, id_, 1, ts, "POST", body(type_, id_, 1)), tuple(index))


async def test_bulk_load(store: Store) -> None:
    await put(store, "Patient", "first", 1, ts=999)
    writes = [
        _new("Patient", f"b{n}", 10 + n, tok("identifier", f"{n:03d}", "urn:x"), StringValue("name", f"name {n % 7}", "N"))
        for n in range(300)
    ] + [_new("Observation", f"o{n}", 5, ReferenceValue("subject", f"Patient/b{n}")) for n in range(50)]
    await store.bulk_load(iter(writes))  # any iterable
    page = await store.search(Query(None, limit=1000, total=True))
    assert page.total == 351
    assert [f"{v.type}/{v.id}" for v in page.versions] == ["Patient/first"] + [f"{w.version.type}/{w.version.id}" for w in writes]
    assert await found(store, "Patient", TokenMatch("identifier", "urn:x", "042")) == ["Patient/b42"]
    assert await found(store, "Observation", vm("subject", "reference", ("target", "eq", "Patient/b7"))) == ["Observation/o7"]
    assert (await _sorted(store, SortKey("name", "string", True), limit=3)) == ["b6", "b13", "b20"]
    assert await store.current("Patient", "b5") == writes[5].version
    assert await store.version("Patient", "b5", 1) == writes[5].version
    assert (await store.history(HistoryQuery(), total=True)).total == 351
    # loaded resources are ordinary: they can be updated
    await put(store, "Patient", "b5", 2, ts=2_000, index=[tok("identifier", "new")])
    assert await found(store, "Patient", TokenMatch("identifier", ANY, "new")) == ["Patient/b5"]


async def test_bulk_load_is_all_or_nothing(store: Store) -> None:
    await put(store, "Patient", "taken", 1, ts=1)
    batch = [_new("Patient", "ok1", 2), _new("Patient", "taken", 3), _new("Patient", "ok2", 4)]
    with pytest.raises(VersionConflict) as info:
        await store.bulk_load(batch)
    assert (info.value.type, info.value.id, info.value.expected, info.value.actual) == ("Patient", "taken", None, 1)
    with pytest.raises(VersionConflict):
        await store.bulk_load([_new("Patient", "twice", 1), _new("Patient", "twice", 2)])
    update = Write(Version("Patient", "taken", 2, 5, "PUT", body("Patient", "taken", 2)), (), expect_vid=1)
    with pytest.raises(ValueError):
        await store.bulk_load([_new("Patient", "ok3", 2), update])
    assert await found(store, None, total=True) == ["Patient/taken"]
    assert (await store.history(HistoryQuery(), total=True)).total == 1
    await store.bulk_load([])
    await store.bulk_load([_new("Patient", "ok1", 2)])  # the failed loads left nothing behind
    assert await found(store, None) == ["Patient/taken", "Patient/ok1"]


async def test_the_default_bulk_load_writes_one_by_one(store: Store) -> None:
    """``Store.bulk_load`` itself (what a store without a fast path gets)."""
    await Store.bulk_load(store, (_new("Patient", f"p{n}", n, tok("identifier", str(n))) for n in range(5)))
    assert await _ids(store, None) == ["p0", "p1", "p2", "p3", "p4"]
    assert await _ids(store, TokenMatch("identifier", ANY, "3")) == ["p3"]
    with pytest.raises(VersionConflict):
        await Store.bulk_load(store, [_new("Patient", "p9", 9), _new("Patient", "p1", 9)])
    assert await store.current("Patient", "p9") is None
