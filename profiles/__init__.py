"""The project's conformance resources (FHIR R4 JSON files next to this module).

Code reads every project URL from here instead of writing literals:

    from profiles import SID, CS, EXT
    SID["cccd"]            # NamingSystem preferred uniqueId (identifier system)
    CS["t54-gender"]       # CodeSystem.url
    EXT["t54-ethnicity"]   # extension StructureDefinition.url

The files are written by ``python -m profiles.generate``.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files
from types import MappingProxyType
from typing import Mapping

__all__ = ["resources", "urls", "SID", "CS", "EXT"]


@lru_cache(maxsize=1)
def resources() -> Mapping[str, dict]:
    """File name -> parsed resource, for every JSON file of the package."""
    root = files(__name__)
    out = {}
    for item in sorted(root.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".json"):
            out[item.name] = json.loads(item.read_text(encoding="utf-8"))
    return MappingProxyType(out)


def _url(res: dict) -> str:
    if res["resourceType"] == "NamingSystem":
        return next(u["value"] for u in res["uniqueId"] if u["type"] == "uri" and u.get("preferred"))
    return res["url"]


def urls() -> dict[str, str]:
    """"Type/id" -> canonical URL (for NamingSystems: the preferred URI uniqueId)."""
    return {f"{r['resourceType']}/{r['id']}": _url(r) for r in resources().values()}


def _by_type(type_: str) -> Mapping[str, str]:
    return MappingProxyType({r["id"]: _url(r) for r in resources().values() if r["resourceType"] == type_})


SID = _by_type("NamingSystem")
CS = _by_type("CodeSystem")
EXT = _by_type("StructureDefinition")
