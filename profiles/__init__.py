"""The project's conformance resources (FHIR R4 JSON files next to this module).

Code reads every project URL from here instead of writing literals:

    from profiles import SID, CS, EXT, VS, PROFILE
    SID["cccd"]                # NamingSystem preferred uniqueId (identifier system)
    CS["t54-gender"]           # CodeSystem.url
    EXT["t54-ethnicity"]       # extension StructureDefinition.url
    VS["vs-t54-gender"]        # ValueSet.url (each holds the whole CodeSystem of the same name)
    PROFILE["lienthong-patient"] # profile StructureDefinition.url

The files are written by ``python -m profiles.generate``; package.json and .index.json (the
FHIR package manifest and index) are not resources and are skipped here.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files
from types import MappingProxyType
from typing import Mapping

__all__ = ["resources", "served", "urls", "SID", "CS", "EXT", "VS", "PROFILE"]


@lru_cache(maxsize=1)
def resources() -> Mapping[str, dict]:
    """File name -> parsed resource, for every resource JSON file of the package (not the manifest or index)."""
    root = files(__name__)
    out = {}
    for item in sorted(root.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".json") and item.is_file():
            data = json.loads(item.read_text(encoding="utf-8"))
            if isinstance(data, dict) and "resourceType" in data:
                out[item.name] = data
    return MappingProxyType(out)


@lru_cache(maxsize=1)
def served() -> tuple[dict, ...]:
    """What the server serves read-only and validates with: this project's resources and the
    VN Core package (:mod:`profiles.vn_core`); their ids never collide (a test holds it). Read
    once: they change only with a release."""
    from . import vn_core

    return (*resources().values(), *vn_core.resources().values())


def _url(res: dict) -> str:
    if res["resourceType"] == "NamingSystem":
        return next(u["value"] for u in res["uniqueId"] if u["type"] == "uri" and u.get("preferred"))
    return res["url"]


def urls() -> dict[str, str]:
    """"Type/id" -> canonical URL (for NamingSystems: the preferred URI uniqueId)."""
    return {f"{r['resourceType']}/{r['id']}": _url(r) for r in resources().values()}


def _by_type(type_: str, kind: str | None = None) -> Mapping[str, str]:
    """id -> url of the resources of one type (StructureDefinitions: of one kind, extension or profile)."""
    def wanted(r: dict) -> bool:
        if r["resourceType"] != type_:
            return False
        return kind is None or (r["type"] == "Extension") == (kind == "extension")
    return MappingProxyType({r["id"]: _url(r) for r in resources().values() if wanted(r)})


SID = _by_type("NamingSystem")
CS = _by_type("CodeSystem")
VS = _by_type("ValueSet")
EXT = _by_type("StructureDefinition", "extension")
PROFILE = _by_type("StructureDefinition", "profile")
