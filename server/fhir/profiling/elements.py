"""A profile's differential as a tree of elements, addressed as instances are walked.

``Patient.identifier:cccd.value`` becomes root → ``identifier`` → slice ``cccd`` → ``value``.
A type slice of a choice (``value[x]:valueQuantity``) is the renamed element ``valueQuantity``.
Only the differential is needed: what a profile does not mention stays as the base type says,
and the base type is checked separately (``server.fhir.validation``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True, eq=False)
class Node:
    """One element of the profile (or one slice of it) and what is constrained below it."""

    name: str
    path: str  # the element's path in the profile, e.g. "Patient.identifier"
    slice: str | None = None
    element: dict[str, Any] = field(default_factory=dict)
    children: dict[str, "Node"] = field(default_factory=dict)
    slices: dict[str, "Node"] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.path}:{self.slice}" if self.slice else self.path


def split_id(element_id: str) -> list[tuple[str, str | None]]:
    """``Patient.identifier:cccd.value`` → [("Patient", None), ("identifier", "cccd"), ("value", None)]."""
    out: list[tuple[str, str | None]] = []
    for part in element_id.split("."):
        name, _, slice_name = part.partition(":")
        slice_name = slice_name.split("/", 1)[0] or None  # re-slices are treated as their slice
        if slice_name and name.endswith("[x]") and slice_name.startswith(name[:-3]):
            name, slice_name = slice_name, None  # type slice = the renamed choice element
        out.append((name, slice_name))
    return out


def _element_id(el: dict[str, Any]) -> str | None:
    if isinstance(el.get("id"), str):
        return el["id"]
    path = el.get("path")
    if not isinstance(path, str):
        return None
    return f"{path}:{el['sliceName']}" if isinstance(el.get("sliceName"), str) else path


def build_tree(sd: dict[str, Any]) -> Node:
    rtype = str(sd.get("type") or "Resource")
    root = Node(rtype, rtype)
    elements = ((sd.get("differential") or {}).get("element") or []) if isinstance(sd.get("differential"), dict) else []
    for el in elements:
        if not isinstance(el, dict):
            continue
        eid = _element_id(el)
        if not eid:
            continue
        segs = split_id(eid)
        node = root
        path = rtype
        for name, slice_name in segs[1:]:
            path = f"{path}.{name}"
            base = node.children.get(name)
            if base is None:
                base = node.children[name] = Node(name, path)
            node = base
            if slice_name:
                sl = base.slices.get(slice_name)
                if sl is None:
                    sl = base.slices[slice_name] = Node(name, path, slice_name)
                node = sl
        node.element = el
    return root


def fixed_or_pattern(el: dict[str, Any]) -> tuple[str, Any] | None:
    """(``"fixed"`` or ``"pattern"``, value) of an element, if it has one."""
    for key, value in el.items():
        if key.startswith("fixed") and len(key) > 5 and key[5].isupper():
            return "fixed", value
        if key.startswith("pattern") and len(key) > 7 and key[7].isupper():
            return "pattern", value
    return None
