"""Run a parsed search: resolve chains, page by keyset, add includes.

Pages are keyset pages: ``next`` starts strictly after the last resource shown and
``previous`` ends strictly before the first one, in an order that updates never change
(sort keys, then creation order). So a client paging while others write never sees a
resource twice nor misses one that existed when it started (unless its sort value changed).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from ...storage.base import Page, Query, Version
from ...storage.index import All, Term, TypeIs
from ..outcome import Issue, bad_request
from .deferred import resolve
from .includes import included
from .parse import ParsedSearch
from .registry import SearchRegistry

Search = Callable[[Query], Awaitable[Page]]


@dataclass(slots=True)
class SearchResult:
    matches: list[Version]
    included: list[Version] = field(default_factory=list)
    total: int | None = None
    next_state: dict[str, Any] | None = None
    prev_state: dict[str, Any] | None = None
    #: what the Bundle must say about this page (an OperationOutcome entry): includes cut short
    notes: list[Issue] = field(default_factory=list)


def sort_fingerprint(parsed: ParsedSearch) -> str:
    text = ",".join(f"{'-' if k.descending else ''}{k.param}" for k in parsed.sort)
    return hashlib.sha1(text.encode()).hexdigest()[:8]


async def run_search(search: Search, registry: SearchRegistry, resource_type: str | None, parsed: ParsedSearch, state: dict[str, Any], *, types: tuple[str, ...] | None = None, extra: Term | None = None) -> SearchResult:
    """One page of ``parsed`` over ``resource_type`` (or ``types``), at the cursor ``state``."""
    where = await resolve(parsed.where, search, registry)
    for term in (TypeIs(types) if types else None, extra):
        if term is not None:
            where = term if where is None else All((term, where))
    fingerprint = sort_fingerprint(parsed)
    after = before = None
    if state:
        if state.get("s") != fingerprint or not ("a" in state or "b" in state):
            raise bad_request("_cursor belongs to a search with another _sort", "_cursor")
        after, before = (tuple(state["a"]) if "a" in state else None), (tuple(state["b"]) if "b" in state else None)
    count = parsed.count
    page = await search(Query(resource_type, where, sort=parsed.sort, after=after, before=before, limit=count + 1, total=parsed.total != "none"))
    versions, keys = page.versions, page.keys
    if before is not None:
        has_prev, has_next = len(versions) > count, True
        if has_prev:
            versions, keys = versions[1:], keys[1:]
    else:
        has_next, has_prev = len(versions) > count, after is not None
        versions, keys = versions[:count], keys[:count]
    result = SearchResult(versions, total=page.total)
    if has_next and keys:
        result.next_state = {"s": fingerprint, "a": list(keys[-1])}
    if has_prev and keys:
        result.prev_state = {"s": fingerprint, "b": list(keys[0])}
    elif has_prev and not keys and after is not None:
        result.prev_state = {"s": fingerprint, "b": list(after)}  # past the end: previous ends at the cursor
    if (parsed.includes or parsed.revincludes) and versions:
        found = await included(search, registry, versions, parsed.includes, parsed.revincludes)
        result.included = found.versions
        if found.cut_at is not None:
            asked = tuple(n for n, used in (("_include", parsed.includes), ("_revinclude", parsed.revincludes)) if used)
            result.notes.append(Issue("too-costly", f"{' and '.join(asked)} were cut at {found.cut_at} resources for this page; more exist. "
                                      "Ask for fewer matches per page (_count) or narrow the search to get the rest", asked, "warning"))
    return result
