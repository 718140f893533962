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
