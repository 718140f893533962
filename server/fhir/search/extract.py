"""Extract the search index of a resource, once, at write time."""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable

from ...storage.index import IndexValue, TokenValue
from .composites import composite_values
from .fhirpath_lite import evaluate
from .registry import SearchParam, SearchRegistry
from .strings import narrative_values
from .values import EXTRACTORS, Extractor

#: types whose extraction needs the whole definition (a composite's components), not just the code
DEFINITION_EXTRACTORS: dict[str, Callable[[SearchParam, Any], Iterable[IndexValue]]] = {
    "composite": composite_values,
}

def _deceased(param: str, node: Any) -> Iterable[IndexValue]:
    """``deceased``: true for ``deceasedBoolean: true`` or any ``deceasedDateTime``."""
    if isinstance(node, bool):
        yield TokenValue(param, None, "true" if node else "false")
    elif isinstance(node, str):
        yield TokenValue(param, None, "true")


#: parameters extracted differently from the other parameters of their type
PARAM_EXTRACTORS: dict[str, Extractor] = {
    "_text": narrative_values,  # the XHTML narrative, read as text
    "deceased": _deceased,
}


def extract_index(registry: SearchRegistry, resource: dict[str, Any]) -> tuple[IndexValue, ...]:
    rows: dict[IndexValue, None] = {}  # ordered set: one row per distinct value
    present = _present(resource)
    for fields, paths, extract, first in _plan(registry, resource["resourceType"]):
        if fields is not None and fields.isdisjoint(present):
            continue  # none of the elements the parameter reads is present: skip evaluating
        for node in evaluate(paths, resource):
            for row in extract(first, node):
                rows[row] = None
    return tuple(rows)


_CHOICE = re.compile(r"[a-z][a-z0-9]*(?=[A-Z])")


def _present(resource: dict[str, Any]) -> set[str]:
    """The resource's top-level element names, each choice element also by its base name
    (``effectiveDateTime`` is also ``effective``), for the pre-check above."""
    present = set(resource)
    for key in resource:
        m = _CHOICE.match(key)
        if m is not None:
            present.add(m.group())
    return present


#: per indexed parameter: the top-level elements its paths start from (``None``: any), its
#: paths, its extractor and the extractor's first argument (the code, or the whole
#: definition for composites)
_Plan = tuple[tuple[frozenset[str] | None, tuple[Any, ...], Callable[[Any, Any], Iterable[IndexValue]], Any], ...]
_plans: dict[tuple[int, str], tuple[SearchRegistry, _Plan]] = {}


def _plan(registry: SearchRegistry, resource_type: str) -> _Plan:
    """What to extract for ``resource_type``, computed once per registry (which does not
    change once built): each indexed parameter with its extractor and the top-level elements
    its paths start from (``None``: a path selects the resource itself)."""
    key = (id(registry), resource_type)
    cached = _plans.get(key)
    if cached is not None and cached[0] is registry:
        return cached[1]
    plan = []
    for param in registry.indexed(resource_type):
        fields: set[str] | None = set()
        for path in param.paths:
            if not path.steps or path.steps[0][0] != "field":
                fields = None
                break
            fields.add(path.steps[0][1])
        by_definition = DEFINITION_EXTRACTORS.get(param.type)
        extract = by_definition or PARAM_EXTRACTORS.get(param.code) or EXTRACTORS[param.type]
        first = param if by_definition else param.code
        plan.append((frozenset(fields) if fields is not None else None, param.paths, extract, first))
    result: _Plan = tuple(plan)  # type: ignore[assignment]
    _plans[key] = (registry, result)
    return result
