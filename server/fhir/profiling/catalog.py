"""The conformance resources of ``profiles/`` and the VN Core package, served read-only: read by id,
search by a few parameters.

They are not in the store: they are the server's own contract and change only with a release.
"""

from __future__ import annotations

from typing import Any, Callable

from ..outcome import Issue, bad_request, not_found
from ..search.parse import split_commas

TYPES = ("StructureDefinition", "CodeSystem", "ValueSet", "NamingSystem")
#: search parameters understood here (per type all of them)
PARAMS = ("_id", "url", "name", "status", "version")
#: parameters that shape the response, not the match
_CONTROL = frozenset({"_format", "_pretty", "_count", "_summary", "_total"})


def _resources() -> list[dict[str, Any]]:
    import profiles

    return [r for r in profiles.served() if isinstance(r, dict) and r.get("resourceType") in TYPES]


def canonical(resource: dict[str, Any]) -> str | None:
    """The URL a resource is found by (NamingSystem: its preferred URI uniqueId)."""
    if resource.get("resourceType") == "NamingSystem":
        ids = [u for u in resource.get("uniqueId") or [] if isinstance(u, dict) and u.get("type") == "uri"]
        preferred = [u for u in ids if u.get("preferred")] or ids
        return preferred[0].get("value") if preferred else None
    url = resource.get("url")
    return url if isinstance(url, str) else None


def read(type_: str, id_: str) -> dict[str, Any]:
    for r in _resources():
        if r["resourceType"] == type_ and r.get("id") == id_:
            return r
    raise not_found(f"Resource {type_}/{id_} is not known")


def _url_matches(resource: dict[str, Any], wanted: str) -> bool:
    url, _, version = wanted.partition("|")
    return canonical(resource) == url and (not version or resource.get("version") == version)


def _fold(text: Any) -> str:
    return str(text).casefold()


_MATCHERS: dict[str, Callable[[dict[str, Any], str], bool]] = {
    "_id": lambda r, v: r.get("id") == v,
    "url": _url_matches,
    "name": lambda r, v: _fold(r.get("name", "")).startswith(_fold(v)),
    "status": lambda r, v: r.get("status") == v,
    "version": lambda r, v: r.get("version") == v,
}


def search(type_: str, params: list[tuple[str, str]], *, strict: bool = False) -> tuple[list[dict[str, Any]], list[tuple[str, str]], list[Issue]]:
    """(matches, parameters applied, notes on ignored parameters); comma = OR, repetition = AND."""
    applied: list[tuple[str, str]] = []
    notes: list[Issue] = []
    for name, value in params:
        if name in _CONTROL:
            continue
        if name not in _MATCHERS:
            text = f"Search parameter '{name}' is not supported for {type_} here (supported: {', '.join(PARAMS)})"
            if strict:
                raise bad_request(text, name, code="not-supported")
            notes.append(Issue("not-supported", text + "; it was ignored", (name,), "warning"))
            continue
        applied.append((name, value))
    found = [r for r in _resources() if r["resourceType"] == type_]
    for name, value in applied:
        options = [v for v in split_commas(value) if v]
        found = [r for r in found if any(_MATCHERS[name](r, v) for v in options)]
    return sorted(found, key=lambda r: str(r.get("id"))), applied, notes
