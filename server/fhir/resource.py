"""Server-managed parts of a stored resource: its id, ``meta.versionId`` and ``meta.lastUpdated``."""

from __future__ import annotations

import re
from typing import Any, Iterator

from .. import jsonio
from ..storage.base import Version
from .dates import instant

ID_RE = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def stamp(resource: dict[str, Any], id_: str, vid: int, ts: int) -> dict[str, Any]:
    """A copy of ``resource`` with the id and the version metadata the server owns."""
    out = {"resourceType": resource["resourceType"], "id": id_}
    meta = dict(resource.get("meta") or {})
    meta["versionId"] = str(vid)
    meta["lastUpdated"] = instant(ts)
    out["meta"] = meta
    for key, value in resource.items():
        if key not in out:
            out[key] = value
    return out


def content_equal(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Same resource apart from the server-managed version metadata (for no-op updates)."""

    def strip(r: dict[str, Any]) -> dict[str, Any]:
        r = dict(r)
        meta = {k: v for k, v in (r.get("meta") or {}).items() if k not in ("versionId", "lastUpdated")}
        if meta:
            r["meta"] = meta
        else:
            r.pop("meta", None)
        return r

    return strip(a) == strip(b)


def body_of(version: Version) -> dict[str, Any]:
    assert version.body is not None
    return jsonio.loads(version.body)


def etag(vid: int) -> str:
    return f'W/"{vid}"'


def parse_etag(value: str) -> int | None:
    """``W/"3"`` or ``"3"`` → 3; anything else → ``None``."""
    v = value.strip()
    if v.startswith("W/"):
        v = v[2:]
    v = v.strip('"')
    return int(v) if v.isdigit() else None


def reference_target(node: Any) -> tuple[str, str] | None:
    """``(type, id)`` a Reference's ``reference`` points at (relative or absolute, history dropped)."""
    ref = node.get("reference") if isinstance(node, dict) else None
    if not isinstance(ref, str) or ref.startswith(("#", "urn:")) or "?" in ref:
        return None
    parts = ref.split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) < 2 or not parts[-2] or not parts[-1]:
        return None
    return parts[-2], parts[-1]


def references(node: Any) -> Iterator[tuple[str, str]]:
    """Every ``(type, id)`` a resource (or any part of one) refers to, anywhere in it."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            target = reference_target(item)
            if target is not None:
                yield target
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
