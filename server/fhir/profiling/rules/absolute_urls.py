"""The identifiers R4 wants absolute: an extension's url, a code system, a canonical reference.

An extension is known by its url, a code by its system, a canonical resource by its url: each
must mean the same thing wherever the resource goes, so it is absolute (a scheme and something
after it: ``http://...``, ``urn:oid:...``). Two exceptions, both R4's: the extensions nested in
a complex extension are named relative to it (``"url": "breed"``), and a canonical reference may
point into the resource itself (``#vs1``, a contained ValueSet). The reference validator reports
each as an error; so does this module.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ...outcome import Issue
from ...structure.table import structure
from ..instance import finding
from ..typed import Walk, nodes
from .rest_urls import is_absolute

_CORE = "http://hl7.org/fhir/StructureDefinition/"


def check(resource: dict[str, Any], walk: Walk | None = None) -> list[Issue]:
    issues: list[Issue] = []
    for node in nodes(resource, walk):
        value, key = node.value, node.key
        if key == "Extension" and node.parent != "Extension":
            url = value.get("url")
            if isinstance(url, str) and not is_absolute(url):
                issues.append(finding("absolute-url", "error", "invalid", node.path,
                                      f"Extension.url must be an absolute URL, not '{url}' (only the extensions inside a complex "
                                      "extension have relative names)", _CORE + "Extension"))
        elif key == "Coding":
            system = value.get("system")
            if isinstance(system, str) and not is_absolute(system):
                issues.append(finding("absolute-url", "error", "invalid", f"{node.path}.system",
                                      f"Coding.system must be an absolute reference, not a local reference: '{system}'", _CORE + "Coding"))
        for name in _canonical_elements(key):
            if name in value:
                issues += _canonicals(value[name], f"{node.path}.{name}", key)
    return issues


@lru_cache(maxsize=None)
def _canonical_elements(key: str) -> tuple[str, ...]:
    return tuple(name for name, f in structure().meta(key).fields.items() if f.prim == "canonical")


def _canonicals(value: Any, path: str, key: str) -> list[Issue]:
    items = [(v, f"{path}[{i}]") for i, v in enumerate(value)] if isinstance(value, list) else [(value, path)]
    return [finding("absolute-url", "error", "invalid", where,
                    f"a canonical URL must be absolute unless it is a fragment reference ('#id'), not '{v}'", _CORE + key.split(".")[0])
            for v, where in items if isinstance(v, str) and not v.startswith("#") and not is_absolute(v)]
