"""Server-managed parts of a stored resource: its id, ``meta.versionId`` and ``meta.lastUpdated``."""

from __future__ import annotations

import re
from typing import Any, Callable, Generic, Iterator, TypeVar

from .. import jsonio
from ..storage.base import Version
from .dates import instant

ID_RE = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")

T = TypeVar("T")


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
    return int(v) if v.isascii() and v.isdigit() else None


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


class VersionMemo(Generic[T]):
    """What is worked out from a stored version's JSON, kept by ``(type, id, vid, ts)``.

    Why: a stored version does not change, and the same versions are read again and again (a
    record opened by several people, each view audited), so parsing each one's JSON once per
    process is enough. Bounded: when ``size`` entries are held, they are all dropped.
    """

    def __init__(self, compute: Callable[[Version], T], size: int = 50_000) -> None:
        self.compute = compute
        self.size = size
        self._held: dict[tuple[str, str, int, int], T] = {}

    def __call__(self, version: Version) -> T:
        key = (version.type, version.id, version.vid, version.ts)
        try:
            return self._held[key]
        except KeyError:
            pass
        if len(self._held) >= self.size:
            self._held.clear()
        value = self._held[key] = self.compute(version)
        return value


#: what a stored version refers to (see :func:`references`), parsed once per version
version_references: VersionMemo[tuple[tuple[str, str], ...]] = VersionMemo(lambda v: tuple(references(body_of(v))) if v.body is not None else ())


#: where in a resource a ``reference`` string sits: the keys and list positions down to its holder
Path = tuple["str | int", ...]


def reference_paths(node: Any) -> list[Path]:
    """The path of every object that holds a ``reference`` string, anywhere in ``node``, in
    document order.

    Found once, outside the unit of work, so rewriting a transaction's references inside it
    touches only those objects (:func:`with_references`) instead of walking the whole resource."""
    out: list[Path] = []
    stack: list[tuple[Any, Path]] = [(node, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("reference"), str):
                out.append(path)
            stack.extend(reversed([(v, (*path, k)) for k, v in item.items() if isinstance(v, (dict, list))]))
        else:
            stack.extend(reversed([(v, (*path, i)) for i, v in enumerate(item) if isinstance(v, (dict, list))]))
    return out


def with_references(resource: dict[str, Any], changes: list[tuple[Path, str]]) -> dict[str, Any]:
    """``resource`` with the ``reference`` at each path set to a new value. ``resource`` itself
    is left as it was: only the objects and lists on the changed paths are copied, the rest
    is shared (nothing downstream changes a resource in place)."""
    if not changes:
        return resource
    root = dict(resource)
    copies: dict[Path, Any] = {(): root}
    for path, value in changes:
        node = root
        for depth in range(len(path)):
            prefix = path[: depth + 1]
            child = copies.get(prefix)
            if child is None:
                child = node[path[depth]]
                child = dict(child) if isinstance(child, dict) else list(child)
                node[path[depth]] = copies[prefix] = child
            node = child
        node["reference"] = value
    return root


def holder_at(resource: dict[str, Any], path: Path) -> dict[str, Any]:
    node: Any = resource
    for key in path:
        node = node[key]
    return node  # type: ignore[no-any-return]
