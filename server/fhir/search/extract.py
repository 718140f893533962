"""Extract the search index of a resource, once, at write time."""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

from ...storage.index import IndexValue
from .fhirpath_lite import evaluate
from .registry import SearchParam, SearchRegistry
from .tokens import token_values

Extractor = Callable[[str, Any], Iterable[IndexValue]]

#: one extractor per search-parameter type: adding a type is a line here
EXTRACTORS: dict[str, Extractor] = {"token": token_values}


def extract_index(registry: SearchRegistry, resource: dict[str, Any]) -> tuple[IndexValue, ...]:
    rows: dict[IndexValue, None] = {}  # ordered set: one row per distinct value
    for param in registry.indexed(resource["resourceType"]):
        for row in _param_rows(param, resource):
            rows[row] = None
    return tuple(rows)


def _param_rows(param: SearchParam, resource: dict[str, Any]) -> Iterator[IndexValue]:
    extractor = EXTRACTORS[param.type]
    for node in evaluate(param.paths, resource):
        yield from extractor(param.code, node)
