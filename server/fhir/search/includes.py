"""``_include`` and ``_revinclude`` (with ``:iterate``): the resources a page refers to, or that refer to it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Awaitable, Callable

from ...storage.base import Page, Query, Version
from ...storage.index import AnyOf, Cond, IdIn, Term, ValueMatch
from ..resource import body_of, reference_target
from .fhirpath_lite import evaluate
from .registry import SearchRegistry

if TYPE_CHECKING:
    from .parse import Include

Search = Callable[[Query], Awaitable[Page]]

#: most resources one search includes, and rounds of ``:iterate``
MAX_INCLUDED = 1000
MAX_ROUNDS = 4


def _reference_params(registry: SearchRegistry, resource_type: str, name: str | None) -> list[str]:
    if name is not None:
        return [name]
    return [p.code for p in registry.params(resource_type) if p.type == "reference" and p.paths]


def _targets(registry: SearchRegistry, v: Version, inc: "Include") -> set[tuple[str, str]]:
    body = body_of(v)
    found = set()
    for pname in _reference_params(registry, v.type, inc.param):
        param = registry.get(v.type, pname)
        for node in evaluate(param.paths if param else (), body):
            target = reference_target(node)
            if target and target[0] in registry.types and (inc.target_type is None or target[0] == inc.target_type):
                found.add(target)
    return found


@dataclass(slots=True)
class Included:
    versions: list[Version]
    #: the cap when some resources to include were left out (more than :data:`MAX_INCLUDED`)
    cut_at: int | None = None


async def included(search: Search, registry: SearchRegistry, matches: list[Version], includes: list["Include"], revincludes: list["Include"]) -> Included:
    """What the page's ``_include``/``_revinclude`` bring, at most :data:`MAX_INCLUDED` (and
    whether more were left out, which the Bundle then says)."""
    seen = {(v.type, v.id) for v in matches}
    out: list[Version] = []
    cut = False
    frontier = matches
    for round_ in range(MAX_ROUNDS):
        fwd = [i for i in includes if round_ == 0 or i.iterate]
        rev = [i for i in revincludes if round_ == 0 or i.iterate]
        if not (fwd or rev) or not frontier:
            break
        found: list[Version] = []
        wanted: dict[str, set[str]] = defaultdict(set)
        for inc in fwd:
            for v in frontier:
                if inc.source_type == v.type:
                    for t, i in _targets(registry, v, inc):
                        if (t, i) not in seen:
                            wanted[t].add(i)
        for t, ids in wanted.items():
            found += (await search(Query(t, IdIn(tuple(sorted(ids))), limit=MAX_INCLUDED + 1))).versions
        refs = tuple(f"{v.type}/{v.id}" for v in frontier)
        for inc in rev:
            if inc.source_type == "*":  # any stored type, through any of its reference parameters
                names = sorted({n for t in registry.types for n in _reference_params(registry, t, None)})
            else:
                names = _reference_params(registry, inc.source_type, inc.param)
            term: Term = AnyOf(tuple(ValueMatch(n, "reference", (Cond("target", "in", refs),)) for n in names))
            source = None if inc.source_type == "*" else inc.source_type
            found += (await search(Query(source, term, limit=MAX_INCLUDED + 1))).versions
        fresh = []
        for v in found:
            if (v.type, v.id) in seen:
                continue
            if len(out) + len(fresh) >= MAX_INCLUDED:
                cut = True
                break
            seen.add((v.type, v.id))
            fresh.append(v)
        out += fresh
        frontier = fresh
        if cut:
            break
    return Included(out, MAX_INCLUDED if cut else None)
