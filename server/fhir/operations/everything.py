"""``Patient/{id}/$everything``: the referral doctor's view of one patient.

The Patient, every resource of the Patient compartment (R4's compartment definition: for
each type, the reference parameters that tie it to a patient), and the resources those
refer to (practitioners, organisations, locations…), one store query per page. Supports
``_since``, ``_type`` and ``_count``; pages with the usual keyset links.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ...storage.base import Query, Version
from ...storage.index import All, IdIn, LastUpdated, Term
from ..compartment import compartment_term
from ..dates import range_param
from ..outcome import bad_request
from ..repository import Repository
from ..resource import body_of, references
from ..search.execute import SearchResult, run_search
from ..search.parse import ParsedSearch, split_commas


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
    await repo.read("Patient", patient_id)  # 404 / 410 as for a read
    types, since, count = parse_options(repo, params)
    where = compartment_term(repo.search_params, patient_id, types)
    if since is not None:
        where = All((where, since))
    parsed = ParsedSearch(None, count, "accurate")
    result = await run_search(repo.store.search, repo.search_params, None, parsed, state, extra=where)
    result.included = await _referenced(repo, result.matches, types)
    return result


async def _referenced(repo: Repository, matches: list[Version], types: tuple[str, ...]) -> list[Version]:
    """Resources the page refers to that are not on it (one hop), of the requested types."""
    have = {(v.type, v.id) for v in matches}
    wanted: dict[str, set[str]] = defaultdict(set)

    for v in matches:
        for target in references(body_of(v)):
            if target[0] in types and target[0] in repo.types and target not in have:
                wanted[target[0]].add(target[1])
    found: list[Version] = []
    for rtype, ids in sorted(wanted.items()):
        found += (await repo.store.search(Query(rtype, IdIn(tuple(sorted(ids))), limit=len(ids)))).versions
    return found
