"""The transaction Bundle a mapping makes for one treatment episode.

Shared by the transfer-dataset and insurance-table mappings, so both import the same way:

- resources shared between episodes (Patient, Organization, Practitioner) are conditional creates
  (``ifNoneExist`` on an identifier); Organizations and Practitioners are referred to by
  conditional reference, so the reference resolves to the one already stored;
- the episode's own resources ("parts") are conditional updates on a part identifier
  ``<facility>/<MA_LK>/<part>``, so importing the same episode again changes nothing and a corrected
  one updates in place;
- full URLs are uuid5 of the source's content, so the same input gives the same Bundle.
"""
from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

_NS = uuid.UUID("6f1c2c55-7d0e-5b8a-9c41-2d2c5e1b7a54")  # namespace of the mappings' uuid5 fullUrls


def text_ok(v: str) -> bool:
    """FHIR strings cannot be empty or whitespace-only."""
    return bool(v) and not v.isspace()


def searchable(ident: tuple[str, str] | None) -> bool:
    """An identifier a conditional request can name (no blanks around it)."""
    return ident is not None and text_ok(ident[1]) and ident[1] == ident[1].strip()


def criteria(system: str, value: str) -> str:
    """identifier=system|value as an ifNoneExist query (search-escaped, then percent-encoded)."""
    token = value.replace("\\", "\\\\").replace(",", "\\,").replace("$", "\\$")
    return "identifier=" + quote(f"{system}|{token}", safe=":/|")


class EpisodeBundle:
    """Entries of one episode's transaction, with the references between them."""

    def __init__(self, seed: str, part_system: str, part_prefix: str) -> None:
        self.ns = uuid.uuid5(_NS, seed)
        self.part_system = part_system
        self.part_prefix = part_prefix
        self.entries: list[dict] = []
        self.refs: dict[tuple[str, str], str] = {}  # (Type, key) -> reference text

    def url(self, key: str) -> str:
        return f"urn:uuid:{uuid.uuid5(self.ns, key)}"

    def add(self, type_: str, key: str, resource: dict, ident: tuple[str, str] | None = None) -> str:
        """Add a POST entry; conditional (ifNoneExist, conditional reference) when ident is searchable."""
        full = self.url(f"{type_}/{key}")
        request: dict[str, Any] = {"method": "POST", "url": type_}
        ref = full
        if searchable(ident):
            assert ident is not None
            request["ifNoneExist"] = criteria(*ident)
            if type_ in ("Organization", "Practitioner"):
                ref = f"{type_}?{request['ifNoneExist']}"
        self.entries.append({"fullUrl": full, "resource": resource, "request": request})
        self.refs[(type_, key)] = ref
        return ref

    def part_identifier(self, key: str) -> tuple[str, str]:
        return self.part_system, f"{self.part_prefix}/{key}"

    def add_part(self, type_: str, key: str, resource: dict, ident: tuple[str, str] | None = None,
                 index: int | None = None) -> str:
        """Add a resource of this episode as a conditional update on ``ident`` (default: the part
        identifier, which is then added to the resource); a plain create when the identifier
        cannot be searched for.  ``index`` places the entry (default: at the end)."""
        if ident is None:
            ident = self.part_identifier(key)
            resource.setdefault("identifier", []).append({"system": ident[0], "value": ident[1]})
        if not searchable(ident):
            return self.add(type_, key, resource)
        full = self.url(f"{type_}/{key}")
        entry = {"fullUrl": full, "resource": resource, "request": {"method": "PUT", "url": f"{type_}?{criteria(*ident)}"}}
        self.entries.insert(len(self.entries) if index is None else index, entry)
        self.refs[(type_, key)] = full
        return full

    def bundle(self) -> dict:
        return {"resourceType": "Bundle", "type": "transaction", "entry": self.entries}
