"""Identifier systems that name the same identifier: one person, one CCCD, whatever the dialect.

A vendor following the Ministry's VN Core guide sends a citizen identity card number with the
system ``http://fhir.ehealth.gov.vn/core/sid/national_id``, one following HL7 Vietnam's
community guide with ``http://fhir.hl7.org.vn/core/sid/cccd``, and this project's older
mappings wrote ``https://lienthong.dev/fhir/sid/cccd``. Each NamingSystem in ``profiles/``
lists every URI of its identifier (``uniqueId``); the preferred one (VN Core's, where VN Core
has the identifier) is the canonical system. Search values are indexed under it, and queried
under it (:func:`canonical_system`), so search, conditional create and update, and import
matching treat the dialects as one. What is stored is what was sent.

The table is data: adding a URI to a NamingSystem is all an alias needs.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def alias_table() -> dict[str, str]:
    """Every aliased system URI → its identifier's canonical (preferred) URI."""
    import profiles

    return aliases_of(r for r in profiles.resources().values() if isinstance(r, dict))


def aliases_of(resources: Any) -> dict[str, str]:
    table: dict[str, str] = {}
    for ns in resources:
        if ns.get("resourceType") != "NamingSystem" or ns.get("kind") != "identifier":
            continue
        uris = [u for u in ns.get("uniqueId") or [] if u.get("type") == "uri" and isinstance(u.get("value"), str)]
        if len(uris) < 2:
            continue
        preferred = next((u["value"] for u in uris if u.get("preferred")), uris[0]["value"])
        for u in uris:
            table[u["value"]] = preferred
    return table


def canonical_system(system: str | None) -> str | None:
    """The canonical URI of ``system``'s identifier (``system`` itself when it has no aliases)."""
    if not system:
        return system
    return alias_table().get(system, system)
