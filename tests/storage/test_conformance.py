"""One behavioural suite every store must pass (run against each through the ``store`` fixture)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from server.storage.base import HistoryQuery, Query, Store, Tx, Version, VersionConflict, Write
from server.storage.index import (
    ANY,
    All,
    AnyOf,
    DateValue,
    IdIn,
    LastUpdated,
    Not,
    NumberValue,
    QuantityValue,
    ReferenceValue,
    StringValue,
    TokenMatch,
    UnsupportedTerm,
    UriValue,
)
from storage_helpers import found, put, refs, tok, version

pytestmark = pytest.mark.anyio


class Boom(Exception):
    pass


# ------------------------------------------------------------------ versions and writes


async def test_create_then_current(store: Store) -> None:
    v = await put(store, "Patient", "p1", 1, ts=100)
    assert await store.current("Patient", "p1") == v
    assert await store.version("Patient", "p1", 1) == v
    assert await store.current("Patient", "nope") is None
    assert await store.current("Observation", "p1") is None
    assert await store.version("Patient", "p1", 2) is None


async def test_body_is_kept_byte_for_byte(store: Store) -> None:
    raw = b'{"resourceType":"Patient","id":"p1","name":[{"text":"Nguy\xe1\xbb\x85n V\xc4\x83n A"}],"x":1.50}'
    v = Version("Patient", "p1", 1, 100, "PUT", raw)
    await store.atomic(lambda tx: tx.write(Write(v)))
    current = await store.current("Patient", "p1")
    assert current is not None and current.body == raw and type(current.body) is bytes


async def test_every_version_is_kept(store: Store) -> None:
    written = [await put(store, "Patient", "p1", vid, ts=100 * vid) for vid in (1, 2, 3)]
    for v in written:
        assert await store.version("Patient", "p1", v.vid) == v
    assert await store.current("Patient", "p1") == written[-1]
    page = await store.history(HistoryQuery("Patient", "p1"), total=True)
    assert page.versions == written[::-1] and page.total == 3


async def test_an_in_place_write_rewrites_the_current_version_and_its_index(store: Store) -> None:
    """What $meta-add needs: the current version's body and index change, no version is added."""
    await put(store, "Patient", "p1", 1, ts=100, index=[tok("_tag", "old")])
    v2 = await put(store, "Patient", "p1", 2, ts=200, index=[tok("_tag", "old")])
    rewritten = Version("Patient", "p1", 2, 200, v2.method, v2.body[:-1] + b',"meta":{"tag":[{"code":"new"}]}}')  # type: ignore[index]
    for wrong in (1, 3, None):  # only the current version, named as such
        with pytest.raises(VersionConflict):
            await store.atomic(lambda tx: tx.write(Write(rewritten, (tok("_tag", "new"),), wrong, in_place=True)))
    assert await store.current("Patient", "p1") == v2
    await store.atomic(lambda tx: tx.write(Write(rewritten, (tok("_tag", "new"),), 2, in_place=True)))
    assert await store.current("Patient", "p1") == rewritten
    assert await store.version("Patient", "p1", 2) == rewritten
    assert (await store.history(HistoryQuery("Patient", "p1"), total=True)).total == 2
    assert await found(store, "Patient", TokenMatch("_tag", ANY, "new")) == ["Patient/p1"]
    assert await found(store, "Patient", TokenMatch("_tag", ANY, "old")) == []


async def test_update_with_wrong_expect_vid_conflicts_and_changes_nothing(store: Store) -> None:
    await put(store, "Patient", "p1", 1, ts=100, index=[tok("identifier", "old")])
    v2 = await put(store, "Patient", "p1", 2, ts=200, index=[tok("identifier", "old")])
    for wrong in (1, 3, None):
        with pytest.raises(VersionConflict) as info:
            await put(store, "Patient", "p1", 3, ts=300, index=[tok("identifier", "new")], expect=wrong)
        assert (info.value.type, info.value.id, info.value.expected, info.value.actual) == ("Patient", "p1", wrong, 2)
    assert await store.current("Patient", "p1") == v2
    assert await store.version("Patient", "p1", 3) is None
    assert (await store.history(HistoryQuery(), total=True)).total == 2
    assert await found(store, "Patient", TokenMatch("identifier", ANY, "old")) == ["Patient/p1"]
    assert await found(store, "Patient", TokenMatch("identifier", ANY, "new")) == []


async def test_create_of_an_existing_id_conflicts(store: Store) -> None:
    v1 = await put(store, "Patient", "p1", 1, ts=100)
    with pytest.raises(VersionConflict) as info:
        await put(store, "Patient", "p1", 1, ts=200, expect=None)
    assert (info.value.expected, info.value.actual) == (None, 1)
    assert await store.current("Patient", "p1") == v1
    assert (await store.history(HistoryQuery(), total=True)).total == 1


async def test_update_of_a_missing_resource_conflicts(store: Store) -> None:
    with pytest.raises(VersionConflict) as info:
        await put(store, "Patient", "ghost", 2, ts=100, expect=1)
    assert (info.value.expected, info.value.actual) == (1, None)
    assert await store.current("Patient", "ghost") is None


async def test_same_id_in_two_types_are_two_resources(store: Store) -> None:
    p = await put(store, "Patient", "x", 1, ts=100)
    o = await put(store, "Observation", "x", 1, ts=200)
    assert await store.current("Patient", "x") == p
    assert await store.current("Observation", "x") == o


async def test_delete_keeps_history_and_hides_from_search(store: Store) -> None:
    ident = [tok("identifier", "123", "urn:cccd")]
    v1 = await put(store, "Patient", "p1", 1, ts=100, index=ident)
    gone = await put(store, "Patient", "p1", 2, ts=200, index=ident, deleted=True)
    current = await store.current("Patient", "p1")
    assert current == gone and current.deleted and current.method == "DELETE"
    assert await store.version("Patient", "p1", 1) == v1
    assert refs((await store.history(HistoryQuery("Patient", "p1"))).versions) == ["Patient/p1/2", "Patient/p1/1"]
    assert await found(store, "Patient") == []
    assert await found(store, None) == []
    assert await found(store, "Patient", TokenMatch("identifier", "urn:cccd", "123")) == []
    assert await found(store, "Patient", IdIn(("p1",))) == []
    assert await found(store, "Patient", Not(IdIn(("zzz",)))) == []
    assert (await store.search(Query("Patient", total=True))).total == 0

    with pytest.raises(VersionConflict):  # recreating must name the deleted version
        await put(store, "Patient", "p1", 3, ts=300, index=ident, expect=None)
    v3 = await put(store, "Patient", "p1", 3, ts=300, index=ident, expect=2)
    assert await store.current("Patient", "p1") == v3
    assert await found(store, "Patient", TokenMatch("identifier", "urn:cccd", "123")) == ["Patient/p1"]


async def test_index_rows_are_replaced_on_update_and_removed_on_delete(store: Store) -> None:
    await put(store, "Patient", "p1", 1, ts=100, index=[tok("identifier", "A"), tok("gender", "male")])
    await put(store, "Patient", "p2", 1, ts=110, index=[tok("identifier", "A")])
    await put(store, "Patient", "p1", 2, ts=200, index=[tok("identifier", "B")])
    assert await found(store, "Patient", TokenMatch("identifier", ANY, "A")) == ["Patient/p2"]
    assert await found(store, "Patient", TokenMatch("identifier", ANY, "B")) == ["Patient/p1"]
    assert await found(store, "Patient", TokenMatch("gender", ANY, None)) == []
    # p1 was created first: its update (a later ts) does not move it behind p2
    assert await found(store, "Patient", Not(TokenMatch("gender", ANY, None))) == ["Patient/p1", "Patient/p2"]

    await put(store, "Patient", "p1", 3, ts=300, deleted=True)
    await put(store, "Patient", "p1", 4, ts=400, expect=3)  # recreated with no index at all
    assert await found(store, "Patient", TokenMatch("identifier", ANY, "B")) == []
    assert await found(store, "Patient", TokenMatch("identifier", ANY, None)) == ["Patient/p2"]


async def test_every_index_value_kind_is_accepted(store: Store) -> None:
    index = [
        tok("identifier", "1", "urn:x"),
        StringValue("name", "nguyen van a", "Nguyễn Văn A"),
        DateValue("birthdate", 1_000, 2_000),
        ReferenceValue("organization", "Organization/o1"),
        NumberValue("probability", 0.5),
        QuantityValue("value-quantity", 5.4, "http://unitsofmeasure.org", "mmol/L"),
        UriValue("url", "http://example.org/fhir/StructureDefinition/x"),
    ]
    await put(store, "Patient", "p1", 1, ts=100, index=index)
    await put(store, "Patient", "p1", 2, ts=200, index=index[1:])
    await put(store, "Patient", "p1", 3, ts=300, index=index, deleted=True)
    assert (await store.current("Patient", "p1")).deleted  # type: ignore[union-attr]
    with pytest.raises(TypeError):
        await put(store, "Patient", "p2", 1, ts=400, index=["not an index value"])  # type: ignore[list-item]
    assert await store.current("Patient", "p2") is None


# -------------------------------------------------------------- concurrency and atomicity


async def test_concurrent_updates_of_one_version_exactly_one_wins(store: Store) -> None:
    await put(store, "Patient", "p1", 1, ts=100, index=[tok("identifier", "v1")])

    async def update(n: int) -> str:
        async def work(tx: Tx) -> None:
            assert (await tx.current("Patient", "p1")) is not None
            await asyncio.sleep(0)
            v = version("Patient", "p1", 2, ts=1_000 + n)
            await tx.write(Write(v, (tok("identifier", f"writer{n}"),), expect_vid=1))

        try:
            await store.atomic(work)
        except VersionConflict as conflict:
            assert (conflict.expected, conflict.actual) == (1, 2)
            return "conflict"
        return f"won {n}"

    outcomes = await asyncio.gather(*(update(n) for n in range(20)))
    winners = [o for o in outcomes if o.startswith("won")]
    assert len(winners) == 1 and outcomes.count("conflict") == 19
    winner = int(winners[0].split()[1])
    current = await store.current("Patient", "p1")
    assert current is not None and current.vid == 2 and current.ts == 1_000 + winner
    assert refs((await store.history(HistoryQuery("Patient", "p1"))).versions) == ["Patient/p1/2", "Patient/p1/1"]
    assert await found(store, "Patient", TokenMatch("identifier", ANY, f"writer{winner}")) == ["Patient/p1"]
    assert await found(store, "Patient", TokenMatch("identifier", ANY, "v1")) == []


async def test_concurrent_creates_of_one_id_exactly_one_wins(store: Store) -> None:
    async def create(n: int) -> int | None:
        try:
            await put(store, "Patient", "same", 1, ts=n)
        except VersionConflict as conflict:
            assert (conflict.expected, conflict.actual) == (None, 1)
            return None
        return n

    outcomes = await asyncio.gather(*(create(n) for n in range(20)))
    winners = [n for n in outcomes if n is not None]
    assert len(winners) == 1
    assert (await store.current("Patient", "same")).ts == winners[0]  # type: ignore[union-attr]
    assert (await store.history(HistoryQuery(), total=True)).total == 1


async def test_a_failing_unit_leaves_nothing_behind(store: Store) -> None:
    old = await put(store, "Patient", "p0", 1, ts=50, index=[tok("identifier", "before")])

    async def work(tx: Tx) -> None:
        for n in (1, 2, 3):
            await tx.write(Write(version("Patient", f"p{n}", 1, ts=100 + n), (tok("identifier", "x"),)))
        await tx.write(Write(version("Patient", "p0", 2, ts=200), (tok("identifier", "after"),), expect_vid=1))
        raise Boom()

    with pytest.raises(Boom):
        await store.atomic(work)
    for n in (1, 2, 3):
        assert await store.current("Patient", f"p{n}") is None
        assert await store.version("Patient", f"p{n}", 1) is None
    assert await store.current("Patient", "p0") == old
    history = await store.history(HistoryQuery(), total=True)
    assert refs(history.versions) == ["Patient/p0/1"] and history.total == 1
    # p0/1 must still be current after 200 (its next_ts was not left set)
    assert refs((await store.history(HistoryQuery(at=(300, 400)))).versions) == ["Patient/p0/1"]
    assert await found(store, "Patient", TokenMatch("identifier", ANY, "x")) == []
    assert await found(store, "Patient", TokenMatch("identifier", ANY, "after")) == []
    assert await found(store, "Patient", TokenMatch("identifier", ANY, "before")) == ["Patient/p0"]
    assert await found(store, None, total=True) == ["Patient/p0"]


async def test_a_conflict_inside_a_unit_rolls_back_its_earlier_writes(store: Store) -> None:
    await put(store, "Patient", "taken", 1, ts=50)

    async def work(tx: Tx) -> None:
        await tx.write(Write(version("Patient", "fresh", 1, ts=100)))
        await tx.write(Write(version("Patient", "taken", 1, ts=100)))  # exists: conflict

    with pytest.raises(VersionConflict):
        await store.atomic(work)
    assert await store.current("Patient", "fresh") is None
    assert await found(store, "Patient") == ["Patient/taken"]


async def test_a_cancelled_unit_is_rolled_back_and_the_store_stays_usable(store: Store) -> None:
    started = asyncio.Event()

    async def work(tx: Tx) -> None:
        await tx.write(Write(version("Patient", "p1", 1, ts=100), (tok("identifier", "1"),)))
        started.set()
        await asyncio.sleep(3600)

    task = asyncio.create_task(store.atomic(work))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await store.current("Patient", "p1") is None
    assert await found(store, "Patient", TokenMatch("identifier", ANY, "1")) == []
    v = await asyncio.wait_for(put(store, "Patient", "p1", 1, ts=200), timeout=5)
    assert await store.current("Patient", "p1") == v


async def test_a_write_failing_half_way_changes_nothing(store: Store) -> None:
    v1 = await put(store, "Patient", "p1", 1, ts=100, index=[tok("identifier", "1")])
    with pytest.raises(Exception):  # vid 1 again: history already has it (a caller bug)
        await put(store, "Patient", "p1", 1, ts=200, index=[tok("identifier", "2")], expect=1)
    assert await store.current("Patient", "p1") == v1
    assert await found(store, "Patient", TokenMatch("identifier", ANY, "1")) == ["Patient/p1"]
    assert await found(store, "Patient", TokenMatch("identifier", ANY, "2")) == []
    assert refs((await store.history(HistoryQuery(at=(300, 300)))).versions) == ["Patient/p1/1"]


async def test_a_unit_reads_its_own_writes(store: Store) -> None:
    async def work(tx: Tx) -> tuple[Version | None, list[str], int | None]:
        await tx.write(Write(version("Patient", "p1", 1, ts=100), (tok("identifier", "42"),)))
        await tx.write(Write(version("Patient", "p1", 2, ts=200), (tok("identifier", "43"),), expect_vid=1))
        page = await tx.search(Query("Patient", TokenMatch("identifier", ANY, "43"), total=True))
        return await tx.current("Patient", "p1"), refs(page.versions), page.total

    current, matches, total = await store.atomic(work)
    assert current is not None and current.vid == 2
    assert matches == ["Patient/p1/2"] and total == 1


async def test_atomic_returns_the_work_result(store: Store) -> None:
    async def work(tx: Tx) -> str:
        return "done"

    assert await store.atomic(work) == "done"


async def test_reads_outside_a_unit_see_only_committed_data(store: Store) -> None:
    if store.kind == "mongodb-emulator":
        pytest.skip("the emulator does not isolate transactions")
    seen: list[object] = []

    async def work(tx: Tx) -> None:
        await tx.write(Write(version("Patient", "p1", 1, ts=100), (tok("identifier", "1"),)))
        seen.append(await store.current("Patient", "p1"))
        seen.append(await found(store, "Patient"))

    await store.atomic(work)
    assert seen == [None, []]
    assert await found(store, "Patient") == ["Patient/p1"]


async def test_atomic_batch_runs_each_work_alone_in_order(store: Store) -> None:
    await put(store, "Patient", "taken", 1, ts=1)

    def create(id_: str, ts: int, *, then_fail: bool = False):  # type: ignore[no-untyped-def]
        async def work(tx: Tx) -> str:
            await tx.write(Write(version("Patient", id_, 1, ts=ts), (tok("identifier", id_),)))
            if then_fail:
                raise Boom(id_)
            return id_

        return work

    async def sees_earlier(tx: Tx) -> int | None:
        current = await tx.current("Patient", "a")
        return None if current is None else current.vid

    results = await store.atomic_batch([
        create("a", 10), create("b", 20, then_fail=True), create("taken", 30), sees_earlier, create("c", 40),
    ])
    assert results[0] == "a" and isinstance(results[1], Boom) and isinstance(results[2], VersionConflict)
    assert results[3] == 1 and results[4] == "c"
    assert await found(store, "Patient") == ["Patient/taken", "Patient/a", "Patient/c"]
    assert await found(store, "Patient", TokenMatch("identifier", ANY, "b")) == []
    assert (await store.history(HistoryQuery(), total=True)).total == 3
    assert await store.atomic_batch([]) == []


# ------------------------------------------------------------------------------ search


@dataclass(frozen=True)
class _Row:
    type: str
    id: str
    ts: int
    tokens: tuple


_DATA = (
    _Row("Patient", "a", 100, (tok("identifier", "111", "urn:cccd"), tok("identifier", "HN-1", "urn:hospital"), tok("gender", "female"))),
    _Row("Patient", "b", 200, (tok("identifier", "222", "urn:cccd"), tok("gender", "male"), tok("active", "true"))),
    _Row("Patient", "c", 300, (tok("identifier", "111"), tok("gender", "male"))),
    _Row("Observation", "o1", 150, (tok("code", "8867-4", "http://loinc.org"), tok("status", "final"))),
    _Row("Observation", "o2", 250, (tok("code", "111", "urn:cccd"), tok("status", "amended"))),
)


async def _load(store: Store) -> None:
    for row in _DATA:
        await put(store, row.type, row.id, 1, ts=row.ts, index=row.tokens)


async def test_token_match_by_system_and_code(store: Store) -> None:
    await _load(store)
    assert await found(store, "Patient", TokenMatch("identifier", "urn:cccd", "111")) == ["Patient/a"]
    assert await found(store, "Patient", TokenMatch("identifier", ANY, "111")) == ["Patient/a", "Patient/c"]
    assert await found(store, "Patient", TokenMatch("identifier", None, "111")) == ["Patient/c"]
    assert await found(store, "Patient", TokenMatch("identifier", "urn:cccd", None)) == ["Patient/a", "Patient/b"]
    assert await found(store, "Patient", TokenMatch("identifier", None, None)) == ["Patient/c"]
    assert await found(store, "Patient", TokenMatch("identifier", ANY, None)) == ["Patient/a", "Patient/b", "Patient/c"]
    assert await found(store, "Patient", TokenMatch("active", ANY, None)) == ["Patient/b"]
    assert await found(store, "Patient", TokenMatch("identifier", "urn:other", "111")) == []
    # the parameter is part of the match: a value of another parameter never matches
    assert await found(store, "Patient", TokenMatch("gender", ANY, "111")) == []
    assert await found(store, "Patient", TokenMatch("identifier", ANY, "male")) == []


async def test_search_across_all_types(store: Store) -> None:
    await _load(store)
    # creation order, across types (not lastUpdated: o1 was written after c)
    assert await found(store, None) == ["Patient/a", "Patient/b", "Patient/c", "Observation/o1", "Observation/o2"]
    assert await found(store, None, TokenMatch("identifier", "urn:cccd", "111")) == ["Patient/a"]
    assert await found(store, None, TokenMatch("code", "urn:cccd", "111")) == ["Observation/o2"]
    assert await found(store, None, AnyOf((TokenMatch("identifier", ANY, "111"), TokenMatch("code", ANY, "111")))) == [
        "Patient/a",
        "Patient/c",
        "Observation/o2",
    ]
    assert await found(store, "Observation", TokenMatch("identifier", ANY, "111")) == []


async def test_id_in(store: Store) -> None:
    await _load(store)
    await put(store, "Observation", "a", 1, ts=50)
    assert await found(store, "Patient", IdIn(("c", "a", "zzz"))) == ["Patient/a", "Patient/c"]
    assert await found(store, None, IdIn(("a",))) == ["Patient/a", "Observation/a"]  # created in that order
    assert await found(store, "Patient", IdIn(())) == []
    assert await found(store, "Patient", Not(IdIn(("a", "b")))) == ["Patient/c"]


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("lt", 200, ["a"]),
        ("le", 200, ["a", "b"]),
        ("gt", 200, ["c"]),
        ("ge", 200, ["b", "c"]),
        ("gt", 300, []),
        ("ge", 0, ["a", "b", "c"]),
    ],
)
async def test_last_updated(store: Store, op: str, value: int, expected: list[str]) -> None:
    await _load(store)
    assert await found(store, "Patient", LastUpdated(op, value)) == [f"Patient/{i}" for i in expected]  # type: ignore[arg-type]


async def test_all_any_of_not(store: Store) -> None:
    await _load(store)
    male = TokenMatch("gender", ANY, "male")
    cccd = TokenMatch("identifier", "urn:cccd", None)
    assert await found(store, "Patient", All((male, cccd))) == ["Patient/b"]
    assert await found(store, "Patient", AnyOf((male, cccd))) == ["Patient/a", "Patient/b", "Patient/c"]
    assert await found(store, "Patient", Not(male)) == ["Patient/a"]
    assert await found(store, "Patient", All((male, Not(cccd)))) == ["Patient/c"]
    assert await found(store, "Patient", Not(AnyOf((male, cccd)))) == []
    assert await found(store, "Patient", Not(All((male, cccd)))) == ["Patient/a", "Patient/c"]
    assert await found(store, "Patient", All((AnyOf((IdIn(("a",)), male)), LastUpdated("lt", 300)))) == [
        "Patient/a",
        "Patient/b",
    ]
    assert await found(store, "Patient", All(())) == ["Patient/a", "Patient/b", "Patient/c"]
    assert await found(store, "Patient", AnyOf(())) == []
    assert await found(store, "Patient", Not(AnyOf(()))) == ["Patient/a", "Patient/b", "Patient/c"]
    # Not over a parameter the resource lacks entirely: it matches
    assert await found(store, "Patient", Not(TokenMatch("active", ANY, None))) == ["Patient/a", "Patient/c"]


async def test_unknown_term_is_refused(store: Store) -> None:
    @dataclass(frozen=True)
    class Near:
        where: str

    with pytest.raises(UnsupportedTerm):
        await store.search(Query("Patient", Near("Hà Nội")))  # type: ignore[arg-type]
    with pytest.raises(UnsupportedTerm):
        await store.search(Query("Patient", Not(All((IdIn(("a",)), Near("x"))))))  # type: ignore[arg-type]


async def test_order_paging_and_total(store: Store) -> None:
    for type_, id_, ts in [("Patient", "b", 10), ("Patient", "a", 10), ("Observation", "z", 10), ("Patient", "c", 5)]:
        await put(store, type_, id_, 1, ts=ts)
    everything = ["Patient/b", "Patient/a", "Observation/z", "Patient/c"]  # creation order, whatever the ts
    assert await found(store, None) == everything
    assert await found(store, "Patient") == ["Patient/b", "Patient/a", "Patient/c"]
    page = await store.search(Query(None, offset=1, limit=2, total=True))
    assert refs(page.versions) == ["Patient/a/1", "Observation/z/1"] and page.total == 4
    assert await found(store, None, offset=3, limit=10) == ["Patient/c"]
    assert await found(store, None, offset=4) == []
    assert (await store.search(Query(None, total=False))).total is None
    counted = await store.search(Query("Patient", limit=0, total=True))
    assert counted.versions == [] and counted.total == 3
    assert (await store.search(Query("Patient", IdIn(("a",)), offset=5, total=True))).total == 1


# ----------------------------------------------------------------------------- history


async def _history_data(store: Store) -> None:
    await put(store, "Patient", "A", 1, ts=100)
    await put(store, "Patient", "B", 1, ts=150)
    await put(store, "Patient", "A", 2, ts=200)
    await put(store, "Observation", "C", 1, ts=250)
    await put(store, "Patient", "A", 3, ts=300, deleted=True)


async def _history(store: Store, **kw: object) -> list[str]:
    return refs((await store.history(HistoryQuery(**kw))).versions)  # type: ignore[arg-type]


async def test_history_levels_newest_first(store: Store) -> None:
    await _history_data(store)
    assert await _history(store) == ["Patient/A/3", "Observation/C/1", "Patient/A/2", "Patient/B/1", "Patient/A/1"]
    assert await _history(store, type="Patient") == ["Patient/A/3", "Patient/A/2", "Patient/B/1", "Patient/A/1"]
    assert await _history(store, type="Patient", id="A") == ["Patient/A/3", "Patient/A/2", "Patient/A/1"]
    assert await _history(store, type="Patient", id="nope") == []
    deleted = (await store.history(HistoryQuery("Patient", "A", limit=1))).versions[0]
    assert deleted.deleted and deleted.method == "DELETE"


async def test_history_since_till_and_paging(store: Store) -> None:
    await _history_data(store)
    assert await _history(store, since=200) == ["Patient/A/3", "Observation/C/1", "Patient/A/2"]
    assert await _history(store, till=200) == ["Patient/A/2", "Patient/B/1", "Patient/A/1"]
    assert await _history(store, since=150, till=250) == ["Observation/C/1", "Patient/A/2", "Patient/B/1"]
    assert await _history(store, type="Patient", since=301) == []
    page = await store.history(HistoryQuery(offset=1, limit=2), total=True)
    assert refs(page.versions) == ["Observation/C/1", "Patient/A/2"] and page.total == 5
    page = await store.history(HistoryQuery("Patient", since=150, limit=1), total=True)
    assert refs(page.versions) == ["Patient/A/3"] and page.total == 3
    assert (await store.history(HistoryQuery())).total is None
    counted = await store.history(HistoryQuery(limit=0), total=True)
    assert counted.versions == [] and counted.total == 5


async def test_history_at_selects_versions_current_during_the_window(store: Store) -> None:
    await _history_data(store)
    # A/1 is current in [100, 200), A/2 in [200, 300), A/3 (deleted) from 300, B/1 from 150
    assert await _history(store, at=(160, 180)) == ["Patient/B/1", "Patient/A/1"]
    assert await _history(store, at=(210, 220)) == ["Patient/A/2", "Patient/B/1"]  # A/1 superseded before
    assert await _history(store, at=(200, 200)) == ["Patient/A/2", "Patient/B/1"]
    assert await _history(store, at=(199, 200)) == ["Patient/A/2", "Patient/B/1", "Patient/A/1"]
    assert await _history(store, at=(50, 99)) == []
    assert await _history(store, at=(0, 1_000)) == [
        "Patient/A/3",
        "Observation/C/1",
        "Patient/A/2",
        "Patient/B/1",
        "Patient/A/1",
    ]
    assert await _history(store, type="Patient", id="A", at=(250, 400)) == ["Patient/A/3", "Patient/A/2"]
    page = await store.history(HistoryQuery(at=(260, 260), limit=1), total=True)
    assert refs(page.versions) == ["Observation/C/1"] and page.total == 3


async def test_history_ties_order_by_type_id_then_vid_desc(store: Store) -> None:
    for type_, id_ in [("X", "b"), ("X", "a"), ("W", "z")]:
        await put(store, type_, id_, 1, ts=500)
    await put(store, "X", "a", 2, ts=500)
    assert await _history(store) == ["W/z/1", "X/a/2", "X/a/1", "X/b/1"]


# ------------------------------------------------------------------------------- clear


async def test_clear_removes_everything(store: Store) -> None:
    await _load(store)
    await put(store, "Patient", "a", 2, ts=999)
    await store.clear()
    assert await store.current("Patient", "a") is None
    assert await store.version("Patient", "a", 1) is None
    assert await found(store, None, total=True) == []
    assert await found(store, "Patient", TokenMatch("identifier", ANY, "111")) == []
    assert (await store.history(HistoryQuery(), total=True)).total == 0
    v = await put(store, "Patient", "a", 1, ts=5, index=[tok("identifier", "111")])  # usable afterwards
    assert await found(store, "Patient", TokenMatch("identifier", ANY, "111")) == ["Patient/a"]
    assert await store.current("Patient", "a") == v



# ----------------------------------------------------------------------------- records


async def test_records_are_kept_beside_resources(store: Store) -> None:
    assert await store.get_record("client", "his-1") is None
    await store.put_record("client", "his-1", {"scope": "system/*.rs", "n": 1})
    await store.put_record("client", "his-0", {"scope": "system/*.cruds"})
    await store.put_record("user", "his-1", {"role": "doctor"})
    assert await store.get_record("client", "his-1") == {"scope": "system/*.rs", "n": 1}
    await store.put_record("client", "his-1", {"scope": "system/*.r"})
    assert await store.get_record("client", "his-1") == {"scope": "system/*.r"}
    assert [k for k, _ in await store.list_records("client")] == ["his-0", "his-1"]
    assert await store.add_record("client", "his-1", {"other": True}) is False
    assert await store.get_record("client", "his-1") == {"scope": "system/*.r"}
    assert await store.add_record("code", "abc", {"x": 1}) is True
    assert await store.take_record("code", "abc") == {"x": 1}
    assert await store.take_record("code", "abc") is None
    await store.clear()
    assert await store.get_record("user", "his-1") == {"role": "doctor"}


async def test_history_of_some_types_only(store: Store) -> None:
    for i, (type_, id_) in enumerate((("Patient", "p1"), ("Observation", "o1"), ("Encounter", "e1"))):
        await put(store, type_, id_, 1, 1000 + i)
    page = await store.history(HistoryQuery(types=("Patient", "Encounter")), total=True)
    assert sorted(v.type for v in page.versions) == ["Encounter", "Patient"] and page.total == 2
    assert (await store.history(HistoryQuery(types=()), total=True)).total == 0


async def test_reindex_replaces_the_index_of_the_current_version_only(store: Store) -> None:
    """A migration rewrites search index rows without a new version; a write in between wins."""
    await put(store, "Patient", "p1", 1, ts=100, index=(tok("identifier", "old"),))
    v1 = await store.current("Patient", "p1")
    assert v1 is not None
    assert await store.reindex(v1, (tok("identifier", "new"),))
    assert await found(store, "Patient", TokenMatch("identifier", ANY, "new")) == ["Patient/p1"]
    assert await found(store, "Patient", TokenMatch("identifier", ANY, "old")) == []
    assert (await store.current("Patient", "p1")) == v1  # no new version
    await put(store, "Patient", "p1", 2, ts=200, index=(tok("identifier", "v2"),))
    assert not await store.reindex(v1, (tok("identifier", "stale"),))  # version 1 is no longer current
    assert await found(store, "Patient", TokenMatch("identifier", ANY, "stale")) == []


# -------------------------------------------------------------- referential integrity (issue 14)


async def test_reverse_references_are_found_inside_a_unit_as_it_changes_them(store: Store) -> None:
    """The query :mod:`server.fhir.integrity` runs at the end of a unit: any reference parameter
    naming the target, any type but AuditEvent; it sees the unit's own writes and deletions, and
    ``Tx.unguarded`` of a store's own unit is that unit."""
    from server.storage.index import Cond, TypeIs, ValueMatch

    target = ("Patient/p1", "http://h/fhir/Patient/p1")
    term = All((AnyOf(tuple(ValueMatch(n, "reference", (Cond("target", "in", target),)) for n in ("patient", "subject"))), Not(TypeIs(("AuditEvent",)))))
    await put(store, "AuditEvent", "a1", 1, ts=50, index=[ReferenceValue("patient", "Patient/p1")])
    await put(store, "Observation", "o1", 1, ts=60, index=[ReferenceValue("subject", "http://h/fhir/Patient/p1")])

    async def work(tx: Tx) -> tuple[list[str], list[str]]:
        assert tx.unguarded() is tx
        await tx.write(Write(version("Encounter", "e1", 1, 100), (ReferenceValue("subject", "Patient/p1"),)))
        before = refs((await tx.unguarded().search(Query(None, term))).versions)
        await tx.write(Write(version("Encounter", "e1", 2, 200, deleted=True), (), 1))
        await tx.write(Write(version("Observation", "o1", 2, 200, deleted=True), (), 1))
        return before, refs((await tx.search(Query(None, term))).versions)

    before, after = await store.atomic(work)
    assert sorted(before) == ["Encounter/e1/1", "Observation/o1/1"]
    assert after == []
