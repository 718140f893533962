"""The base R4 invariants (``server/fhir/data/r4-invariants.json``) on any resource.

They are data: key, context, severity, human text and the official expression. Those the
engine cannot evaluate carry a ``skip`` reason and are left out here.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources as _files
from typing import Any, Iterator

from ..outcome import Issue
from .constraints import invariant
from .instance import Item, element_values, walk_keyed

BASE = "http://hl7.org/fhir/StructureDefinition/"
_NOT_DOMAIN = frozenset({"Bundle", "Binary", "Parameters"})
_EXTENSION_KEYS = frozenset({"extension", "modifierExtension"})


@lru_cache(maxsize=1)
def definitions() -> tuple[dict[str, Any], ...]:
    text = _files.files("server.fhir").joinpath("data/r4-invariants.json").read_text("utf-8")
    return tuple(json.loads(text)["invariant"])


def evaluated() -> tuple[dict[str, Any], ...]:
    return tuple(d for d in definitions() if "skip" not in d)


def contexts(context: str, resource: dict[str, Any], rtype: str) -> Iterator[Item]:
    """The nodes an invariant's context names in ``resource``."""
    if context == "DomainResource":
        if rtype not in _NOT_DOMAIN:
            yield resource, rtype
        return
    if context == "Extension":
        yield from walk_keyed(resource, _EXTENSION_KEYS, rtype)
        return
    first, _, rest = context.partition(".")
    if first != rtype:
        return
    items: list[Item] = [(resource, rtype)]
    for part in rest.split(".") if rest else []:
        items = [found for value, path in items for found in element_values(value, part, path)]
    yield from items


def check(resource: dict[str, Any]) -> list[Issue]:
    rtype = resource.get("resourceType")
    if not isinstance(rtype, str):
        return []
    issues: list[Issue] = []
    for d in evaluated():
        context = d["context"]
        base = rtype if context == "DomainResource" else context
        profile = BASE + context.split(".", 1)[0]
        for node, path in contexts(context, resource, rtype):
            found = invariant(d["key"], d["severity"], d["expression"], d["human"], node, path, base, resource, profile)
            if found is not None:
                issues.append(found)
    return issues
