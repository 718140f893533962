"""``Patient/{id}/$everything`` and ``Patient/$everything``: the referral doctor's view.

Instance level: the Patient, every resource of its compartment (R4's compartment definition:
for each type, the reference parameters that tie it to a patient), and the resources those
refer to (practitioners, organisations, locations…). Type level: the same for every Patient
the caller may see (a patient-context token: its own patient only; other types only as far
as the token's scopes reach, through the request's guarded store).

One walk is one set: the compartment resources (``search.mode = match``) and the resources
they refer to outside it (``include``) are paged together, by keyset in the store's order, so
a resource appears once in the whole walk, never once as a match and again as an include on
another page. Working out what the compartment refers to reads it once per page (at most
:data:`MAX_WALK` resources; more is refused as too costly). ``_since`` (on the compartment),
``_type`` and ``_count``; ``Bundle.total`` counts the compartment resources.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ...storage.base import Query
from ...storage.index import All, AnyOf, IdIn, LastUpdated, Term, TypeIs
from ..compartment import compartment_term, compartments_term
from ..dates import range_param
from ..outcome import FhirError, bad_request
from ..repository import Repository
from ..resource import version_references
from ..search.execute import SearchResult, run_search
from ..search.parse import ParsedSearch, split_commas

#: most resources (compartments, or Patients at type level) one walk may span
MAX_WALK = 20_000
_CHUNK = 1000

Ref = tuple[str, str]


def parse_options(repo: Repository, params: list[tuple[str, str]]) -> tuple[tuple[str, ...], Term | None, int]:
    q = dict(params)
    types = tuple(sorted(repo.types))
    if "_type" in q:
        wanted = tuple(t.strip() for t in split_commas(q["_type"]) if t.strip())
        unknown = [t for t in wanted if t not in repo.types]
        if unknown:
            raise bad_request(f"_type names types this server does not store: {', '.join(unknown)}", "_type")
        types = wanted
    since: Term | None = None
    if "_since" in q:
        since = LastUpdated("ge", range_param("_since", q["_since"])[0])
    count = repo.parser.parse_count(q["_count"]) if "_count" in q else repo.settings.default_count
    return types, since, count


async def everything(repo: Repository, patient_id: str, params: list[tuple[str, str]], state: dict[str, Any]) -> SearchResult:
    """One page of one patient's record."""
    await repo.read("Patient", patient_id)  # 404 / 410 as for a read
    types, since, count = parse_options(repo, params)
    return await _walk(repo, compartment_term(repo.search_params, patient_id, types), types, since, count, state)


async def everything_all(repo: Repository, params: list[tuple[str, str]], state: dict[str, Any]) -> SearchResult:
    """One page of the records of every Patient the caller may see."""
    repo.access.require("Patient", "read")
    types, since, count = parse_options(repo, params)
    patients = [i for _, i in (await _scan(repo, TypeIs(("Patient",)), "Patients"))[0]]
    if not patients:
        return SearchResult([], total=0)
    return await _walk(repo, compartments_term(repo.search_params, tuple(patients), types), types, since, count, state)


async def _walk(repo: Repository, compartment: Term, types: tuple[str, ...], since: Term | None, count: int, state: dict[str, Any]) -> SearchResult:
    if since is not None:
        compartment = All((compartment, since))
    members, outside = await _scan(repo, compartment, "resources", types)
    walk: Term = compartment
    if outside:
        by_type: dict[str, list[str]] = defaultdict(list)
        for t, i in sorted(outside):
            by_type[t].append(i)
        walk = AnyOf((compartment, *(All((TypeIs((t,)), IdIn(tuple(ids)))) for t, ids in by_type.items())))
    result = await run_search(repo.store.search, repo.search_params, None, ParsedSearch(None, count, "none"), state, extra=walk)
    result.included = [v for v in result.matches if (v.type, v.id) in outside]
    result.matches = [v for v in result.matches if (v.type, v.id) not in outside]
    result.total = len(members)
    return result


async def _scan(repo: Repository, where: Term, what: str, types: tuple[str, ...] = ()) -> tuple[list[Ref], set[Ref]]:
    """``(type, id)`` of every resource matching ``where`` that the caller may see, in store
    order, and what they refer to (one hop) outside themselves, of ``types``."""
    scan = getattr(repo.store, "scan", repo.store.search)  # a guarded store: looked at, not shown
    members: list[Ref] = []
    targets: set[Ref] = set()
    after = None
    while True:
        page = await scan(Query(None, where, after=after, limit=_CHUNK))
        members += [(v.type, v.id) for v in page.versions]
        if len(members) > MAX_WALK:
            raise FhirError.of(400, "too-costly", f"$everything would span more than {MAX_WALK} {what}; narrow it with _type or _since, or ask for one Patient")
        for v in page.versions if types else ():
            targets.update(t for t in version_references(v) if t[0] in types and t[0] in repo.types)
        if len(page.versions) < _CHUNK or not page.keys:
            return members, targets - set(members)
        after = page.keys[-1]
