"""Search parameters as data: the official R4 definitions, compiled for the stored types.

Each :class:`SearchParam` names its type and the paths it indexes for one resource type.
A parameter is *supported* when an extractor exists for its type and its expression
compiles (see :mod:`.fhirpath_lite`); the CapabilityStatement lists exactly those.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from .fhirpath_lite import Path, compile_expression

#: parameter types whose values this server extracts and searches
EXTRACTED_TYPES = frozenset({"token", "string", "date", "reference", "number", "quantity", "uri", "composite"})
#: where parameters the R4 definitions give no expression for are indexed from
#: (``_text``: the narrative, read as text by :func:`.strings.narrative_values`)
IMPLICIT_EXPRESSIONS = {"_text": "DomainResource.text.div"}
#: definitions (by id) whose R4 expression is outside the supported subset, indexed from a
#: simpler path with a dedicated extractor (see ``extract.PARAM_EXTRACTORS``)
EXPRESSION_OVERRIDES = {"Patient-deceased": "Patient.deceased"}
#: parameters answered from the stored version itself rather than the index
SPECIAL = frozenset({"_id", "_lastUpdated"})


@dataclass(frozen=True, slots=True)
class SearchParam:
    code: str
    type: str
    resource_type: str
    expression: str | None
    paths: tuple[Path, ...]
    definition: str
    targets: tuple[str, ...] = ()  # for references: the types it may point at

    @property
    def supported(self) -> bool:
        return self.code in SPECIAL or (self.type in EXTRACTED_TYPES and bool(self.paths))


@cache
def _definitions() -> list[dict[str, Any]]:
    text = resources.files("server.fhir").joinpath("data/search-parameters.json").read_text("utf-8")
    return json.loads(text)


@cache
def _definitions_by_id() -> dict[str, dict[str, Any]]:
    return {d["id"]: d for d in _definitions()}


def definition_by_id(definition: str) -> dict[str, Any] | None:
    """The R4 definition with this id or canonical URL (``Observation-code`` or
    ``http://hl7.org/fhir/SearchParameter/Observation-code``): composites name their
    components this way."""
    return _definitions_by_id().get(definition.rsplit("/", 1)[-1])


class SearchRegistry:
    """The search parameters of the given resource types."""

    def __init__(self, resource_types: frozenset[str] | set[str]) -> None:
        self.types = frozenset(resource_types)
        self._by_type: dict[str, dict[str, SearchParam]] = {t: {} for t in resource_types}
        for d in _definitions():
            self._add(d)

    def _add(self, d: dict[str, Any]) -> None:
        expression = d.get("expression")
        source = EXPRESSION_OVERRIDES.get(d.get("id", "")) or expression or IMPLICIT_EXPRESSIONS.get(d["code"])
        compiled = compile_expression(source, self.types) if source else None
        for base in d["base"]:
            targets = self._by_type if base in ("Resource", "DomainResource") else {base: self._by_type.get(base)}
            for rtype, params in targets.items():
                if params is None:
                    continue
                paths: tuple[Path, ...] = ()
                if compiled is not None:
                    paths = tuple(compiled.get(rtype) or compiled.get(base) or ())
                params[d["code"]] = SearchParam(
                    code=d["code"],
                    type=d["type"],
                    resource_type=rtype,
                    expression=expression,
                    paths=paths,
                    definition=f"http://hl7.org/fhir/SearchParameter/{d['id']}",
                    targets=tuple(d.get("target") or ()),
                )

    def get(self, resource_type: str, code: str) -> SearchParam | None:
        return self._by_type.get(resource_type, {}).get(code)

    def params(self, resource_type: str) -> list[SearchParam]:
        return list(self._by_type.get(resource_type, {}).values())

    def indexed(self, resource_type: str) -> list[SearchParam]:
        """Parameters whose values are extracted at write time."""
        return [p for p in self.params(resource_type) if p.supported and p.code not in SPECIAL]
