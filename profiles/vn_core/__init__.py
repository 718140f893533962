"""The Ministry of Health's VN Core guide (``http://fhir.ehealth.gov.vn/core``) as a FHIR package.

``package/`` holds its 107 conformance resources (profiles, extensions, code systems, value sets,
naming systems), converted from the published FHIR XML to JSON by :mod:`profiles.vn_core.convert`
with the server's own XML reader, and a ``package.json``. Where a source resource is broken, the
conversion repairs it in one named way and says so (``REPAIRS``, docs/profiles.md); everything
else is as published.
"""

from __future__ import annotations

import json
from importlib.resources import files
from types import MappingProxyType
from typing import Mapping

CANONICAL = "http://fhir.ehealth.gov.vn/core"


def resources() -> Mapping[str, dict]:
    """File name -> resource, for every resource of the package."""
    root = files(__name__) / "package"
    out = {}
    for item in sorted(root.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".json") and item.name != "package.json":
            out[item.name] = json.loads(item.read_text(encoding="utf-8"))
    return MappingProxyType(out)


def _ids(type_: str, extension: bool | None = None) -> Mapping[str, str]:
    return MappingProxyType({r["id"]: r["url"] for r in resources().values()
                             if r["resourceType"] == type_ and (extension is None or (r.get("type") == "Extension") == extension)})


#: id -> canonical URL of VN Core's extensions and code systems (``EXT["extension-race"]``)
EXT = _ids("StructureDefinition", extension=True)
CS = _ids("CodeSystem")
