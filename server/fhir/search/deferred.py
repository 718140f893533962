"""Search terms that need another search first: chaining and reverse chaining (``_has``).

The parser leaves these nodes in the term tree; :func:`resolve` runs the inner search and
replaces each with a plain term the stores understand (a reference ``in`` list, or ids).
So chaining works the same on every store, and no store needs joins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable

from ...storage.base import Page, Query
from ...storage.index import All, AnyOf, Cond, IdIn, Not, Term, ValueMatch
from ..outcome import FhirError
from ..resource import body_of, reference_target
from .fhirpath_lite import evaluate
from .registry import SearchRegistry

#: most inner matches a chain or ``_has`` may expand to before the search is refused as too costly
MAX_INNER = 10_000

Search = Callable[[Query], Awaitable[Page]]


@dataclass(frozen=True, slots=True)
class Chain:
    """``param:TargetType.inner=value``: the reference ``param`` points at a match of ``inner``."""

    param: str
    target_type: str
    inner: Term


@dataclass(frozen=True, slots=True)
class Has:
    """``_has:Source:ref:inner=value``: some ``Source`` matching ``inner`` refers here via ``ref``."""

    source_type: str
    ref_param: str
    inner: Term
    outer_type: str


async def _inner(search: Search, type_: str, where: Term, what: str) -> list:  # type: ignore[type-arg]
    page = await search(Query(type_, where, limit=MAX_INNER + 1))
    if len(page.versions) > MAX_INNER:
        raise FhirError.of(400, "too-costly", f"{what} matches more than {MAX_INNER} {type_} resources; narrow the search")
    return page.versions


async def resolve(term: Term | None, search: Search, registry: SearchRegistry) -> Term | None:
    """``term`` with every :class:`Chain` and :class:`Has` replaced by a store term."""
    if term is None:
        return None
    if isinstance(term, (All, AnyOf)):
        parts = tuple([await resolve(t, search, registry) for t in term.terms])  # type: ignore[misc]
        return type(term)(parts)  # type: ignore[arg-type]
    if isinstance(term, Not):
        inner = await resolve(term.term, search, registry)
        return Not(inner)  # type: ignore[arg-type]
    if isinstance(term, Chain):  # the inner term may chain again: resolve it first, innermost level first
        inner = await resolve(term.inner, search, registry)
        versions = await _inner(search, term.target_type, inner, f"The chained parameter {term.param}")  # type: ignore[arg-type]
        targets = tuple(f"{v.type}/{v.id}" for v in versions)
        return ValueMatch(term.param, "reference", (Cond("target", "in", targets),))
    if isinstance(term, Has):
        inner = await resolve(term.inner, search, registry)  # a chain (or _has) inside _has
        versions = await _inner(search, term.source_type, inner, "_has")  # type: ignore[arg-type]
        param = registry.get(term.source_type, term.ref_param)
        ids: set[str] = set()
        for v in versions:
            for node in evaluate(param.paths if param else (), body_of(v)):
                target = reference_target(node)
                if target is not None and target[0] == term.outer_type:
                    ids.add(target[1])
        return IdIn(tuple(sorted(ids)))
    return term
