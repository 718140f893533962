"""Every complex node of a resource with its R4 type, read from the compiled structure table.

The rules that hold for a type wherever it occurs (a Period's per-1, an Extension's url, an
Attachment's size) need each node's type: a ``valuePeriod``, a ``Patient.identifier.period`` and
an ``_birthDate`` extension's value are all Periods. Contained resources and the resources inside
others (Bundle entries, Parameters) are walked too, each as its own ``resource``.
"""

from __future__ import annotations

from typing import Any, Iterator, NamedTuple

from ..structure.table import Structure, structure


class Node(NamedTuple):
    value: dict[str, Any]
    key: str  # its type in the table: "Period", "Patient", the backbone "Patient.contact"
    path: str  # FHIRPath-like: "Patient.identifier[1].period"
    resource: dict[str, Any]  # the resource it is in (%resource)
    root: dict[str, Any]  # the container of a contained resource, else ``resource`` (%rootResource)
    parent: str  # the type of the node it is in ("" for the resource walked)

    @property
    def is_contained(self) -> bool:
        return self.value is self.resource and self.resource is not self.root


def nodes(resource: dict[str, Any], s: Structure | None = None) -> Iterator[Node]:
    """The nodes of ``resource`` (which must have a known resourceType) in document order
    (iterative: depth-safe; content that does not fit the table is left to the structural
    validation, which reports it)."""
    s = s or structure()
    rtype = resource["resourceType"]
    stack = [Node(resource, rtype, rtype, resource, resource, "")]
    while stack:
        node = stack.pop()
        yield node
        value, key, path, res, root, _ = node
        meta = s.meta(key)
        children: list[Node] = []
        for name, child in value.items():
            f = meta.fields.get(name)
            if f is None:
                if name.startswith("_") and (p := meta.fields.get(name[1:])) is not None and p.prim is not None:
                    children += _companion_extensions(child, f"{path}.{name[1:]}", p.is_list, node)
                continue
            if f.prim is not None:
                continue
            items = child if isinstance(child, list) else [child]
            for i, item in enumerate(items):
                if not isinstance(item, dict):
                    continue
                where = f"{path}.{name}[{i}]" if f.is_list and isinstance(child, list) else f"{path}.{name}"
                if f.is_resource:
                    inner = item.get("resourceType")
                    if isinstance(inner, str) and inner in s.resource_types:
                        # contained: %rootResource stays the container; a Bundle entry is a resource of its own
                        children.append(Node(item, inner, where, item, root if name == "contained" else item, key))
                elif f.type_key is not None:
                    children.append(Node(item, f.type_key, where, res, root, key))
        stack.extend(reversed(children))


def _companion_extensions(companion: Any, path: str, is_list: bool, owner: Node) -> list[Node]:
    """The extensions of a primitive's ``_name`` companion (a dict, or a list of them)."""
    out: list[Node] = []
    items = companion if isinstance(companion, list) else [companion]
    for i, item in enumerate(items):
        exts = item.get("extension") if isinstance(item, dict) else None
        if not isinstance(exts, list):
            continue
        where = f"{path}[{i}]" if is_list and isinstance(companion, list) else path
        out += [Node(e, "Extension", f"{where}.extension[{j}]", owner.resource, owner.root, owner.key) for j, e in enumerate(exts) if isinstance(e, dict)]
    return out
