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

    def add(self, type_: str, key: str, resource: dict, ident: tuple[str, str] | None = None,
            index: int | None = None) -> str:
        """Add a POST entry; conditional (ifNoneExist, conditional reference) when ident is searchable.
        ``index`` places the entry (default: at the end)."""
        full = self.url(f"{type_}/{key}")
        request: dict[str, Any] = {"method": "POST", "url": type_}
        ref = full
        if searchable(ident):
            assert ident is not None
            request["ifNoneExist"] = criteria(*ident)
            if type_ in ("Organization", "Practitioner"):
                ref = f"{type_}?{request['ifNoneExist']}"
        self.entries.insert(len(self.entries) if index is None else index,
                            {"fullUrl": full, "resource": resource, "request": request})
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
            return self.add(type_, key, resource, index=index)
        full = self.url(f"{type_}/{key}")
        entry = {"fullUrl": full, "resource": resource, "request": {"method": "PUT", "url": f"{type_}?{criteria(*ident)}"}}
        self.entries.insert(len(self.entries) if index is None else index, entry)
        self.refs[(type_, key)] = full
        return full

    def bundle(self) -> dict:
        return {"resourceType": "Bundle", "type": "transaction", "entry": self.entries}


class BundleIndex:
    """The resources of a Bundle by reference text (fullUrl, ``Type/id``, conditional reference) and by type,
    so a mapping can follow the references it wrote."""

    def __init__(self, bundle: dict) -> None:
        self.by_ref: dict[str, dict] = {}
        self.by_type: dict[str, list[dict]] = {}
        for e in bundle.get("entry", []):
            res = e.get("resource")
            if not isinstance(res, dict):
                continue
            self.by_type.setdefault(str(res.get("resourceType", "")), []).append(res)
            if e.get("fullUrl"):
                self.by_ref[e["fullUrl"]] = res
            if res.get("id"):
                self.by_ref.setdefault(f"{res['resourceType']}/{res['id']}", res)
            cond = (e.get("request") or {}).get("ifNoneExist")
            if cond:
                self.by_ref[f"{res['resourceType']}?{cond}"] = res

    def get(self, ref: dict | None) -> dict | None:
        """The resource ``ref`` points at, or None."""
        return self.by_ref.get(str((ref or {}).get("reference", "")))

    def resolve(self, ref: dict | None) -> dict:
        """The resource ``ref`` points at; ValueError when it is not in the Bundle."""
        found = self.get(ref)
        if found is None:
            raise ValueError(f"reference {(ref or {}).get('reference')!r} does not resolve within the bundle")
        return found

    def one(self, type_: str) -> dict | None:
        found = self.by_type.get(type_, [])
        if len(found) > 1:
            raise ValueError(f"the bundle has {len(found)} {type_} resources; expected at most one")
        return found[0] if found else None
