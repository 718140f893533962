"""Rules on search parameter definitions: a SearchParameter, and a CapabilityStatement's searchParam.

A search parameter is only usable if its parts agree: a composite combines at least two
components; the resource types its expression reads are among its ``base``; one derived from an
official R4 parameter keeps that one's type and bases; a server that declares an official
parameter declares it with its type. The official R4 parameters are the ones this server already
has as data (``data/search-parameters.json``). The reference validator reports each as an error.
"""

from __future__ import annotations

import re
from typing import Any

from ...outcome import Issue
from ...search.registry import definition_by_id
from ...structure.table import structure
from ..instance import finding
from ..typed import Walk, nodes

OFFICIAL = "http://hl7.org/fhir/SearchParameter/"
_SP = "http://hl7.org/fhir/StructureDefinition/SearchParameter"
_CS = "http://hl7.org/fhir/StructureDefinition/CapabilityStatement"
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'")
#: a type name that starts a path: not after a '.', a name character or a type operator (``as Quantity``)
_PATH_START = re.compile(r"(?<![\w.%$`])\b(?<!\bas )(?<!\bis )([A-Z][A-Za-z]*)\s*\.")


def official(url: Any) -> dict[str, Any] | None:
    """The official R4 search parameter with this canonical URL (a version after '|' ignored)."""
    if not isinstance(url, str) or not url.startswith(OFFICIAL):
        return None
    return definition_by_id(url.split("|", 1)[0][len(OFFICIAL):])


def check(resource: dict[str, Any], walk: Walk | None = None) -> list[Issue]:
    issues: list[Issue] = []
    for node in nodes(resource, walk):
        if node.key == "SearchParameter":
            issues += search_parameter(node.value, node.path)
        elif node.key == "CapabilityStatement.rest.resource.searchParam":
            issues += declared(node.value, node.path)
    return issues


def search_parameter(sp: dict[str, Any], path: str) -> list[Issue]:
    issues = []
    kind, bases = sp.get("type"), [b for b in sp.get("base") or [] if isinstance(b, str)] if isinstance(sp.get("base"), list) else []
    components = sp.get("component")
    if kind == "composite" and (len(components) if isinstance(components, list) else 0) < 2:
        issues.append(finding("search-parameter", "error", "business-rule", path,
                              "a composite search parameter must define two or more components", _SP))
    expression = sp.get("expression")
    if isinstance(expression, str) and bases:
        for name in sorted(set(read_types(expression)) - set(bases)):
            if not _covers(bases, name):
                issues.append(finding("search-parameter", "error", "invalid", f"{path}.expression",
                                      f"the expression reads {name}, which is not among the base types ({', '.join(bases)})", _SP))
    parent = official(sp.get("derivedFrom"))
    if parent is not None:
        if isinstance(kind, str) and kind != parent["type"]:
            issues.append(finding("search-parameter", "error", "business-rule", path,
                                  f"the type {kind} is not the type {parent['type']} of {sp['derivedFrom']}, which it is derived from", _SP))
        for base in bases:
            if not _covers(parent["base"], base):
                issues.append(finding("search-parameter", "error", "business-rule", path,
                                      f"the resource type {base} is not a base of {sp['derivedFrom']}, which it is derived from", _SP))
    return issues


def declared(param: dict[str, Any], path: str) -> list[Issue]:
    """A CapabilityStatement's searchParam that names an official definition has its type."""
    definition = official(param.get("definition"))
    kind = param.get("type")
    if definition is None or not isinstance(kind, str) or kind == definition["type"]:
        return []
    return [finding("search-parameter", "error", "business-rule", path,
                    f"the type {kind} is not the type {definition['type']} of {param['definition']}", _CS)]


def read_types(expression: str) -> list[str]:
    """The resource types an expression starts its paths from (``Patient.name | (Observation.value as
    Quantity)`` reads Patient and Observation; type names after ``is``/``as``/``ofType`` are not paths)."""
    known = structure().resource_types | {"Resource", "DomainResource"}
    return [m for m in _PATH_START.findall(_STRING.sub("''", expression)) if m in known]


def _covers(bases: list[str], name: str) -> bool:
    """Whether a parameter on ``bases`` applies to resources of type ``name``."""
    if name in bases or "Resource" in bases:
        return True
    types = structure().types
    if "DomainResource" in bases and types.get(name, {}).get("base") == "DomainResource":
        return True
    return name in ("Resource", "DomainResource") and any(types.get(b, {}).get("base") in (name, "DomainResource") for b in bases)
