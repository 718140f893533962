"""Applying one profile to one instance: the element tree walked alongside the JSON.

For each constrained element, per parent occurrence: cardinality, mustSupport, slice
assignment and slice cardinality; per occurrence: choice types, fixed/pattern, binding,
invariants. The definition of each extension is applied by :mod:`.extensions`, to every use of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..outcome import Issue
from . import binding, cardinality, constraints, slicing, support, values
from .elements import Node
from .instance import Item, element_values, finding

if TYPE_CHECKING:
    from .registry import ProfileRegistry


class ProfileWalk:
    def __init__(self, registry: "ProfileRegistry", sd: dict[str, Any], resource: Any) -> None:
        self.registry = registry
        self.sd = sd
        self.url = str(sd.get("url"))
        self.resource = resource
        self.issues: list[Issue] = []

    def run(self, items: list[Item]) -> list[Issue]:
        root = self.registry.tree(self.sd)
        self._occurrences(root, items)
        return self.issues

    # ----------------------------------------------------------------- per occurrence

    def _occurrences(self, node: Node, items: list[Item]) -> None:
        el = node.element
        base = el["path"] if isinstance(el.get("path"), str) else node.path
        for value, path in items:
            self.issues += self._type(node, path)
            self.issues += values.check(el, value, path, self.url)
            self.issues += binding.check(el, value, path, self.url)
            self.issues += constraints.check(el, value, path, base, self.resource, self.url)
        if node.children:
            self._children(node, items)

    def _type(self, node: Node, path: str) -> list[Issue]:
        """A choice element may only use the types the profile keeps."""
        if not node.name.endswith("[x]"):
            return []
        allowed = [t.get("code") for t in node.element.get("type") or [] if isinstance(t, dict) and isinstance(t.get("code"), str)]
        if not allowed:
            return []
        key = path.rsplit(".", 1)[-1].split("[", 1)[0]
        used = key[len(node.name) - 3:]
        if any(used.lower() == a.lower() for a in allowed):
            return []
        return [finding("type", "error", "value", path, f"type {used} is not allowed here; the profile allows {', '.join(allowed)}", self.url)]

    # ----------------------------------------------------------------- per parent

    def _children(self, node: Node, parents: list[Item]) -> None:
        for child in node.children.values():
            everything: list[Item] = []
            per_slice: dict[str, list[Item]] = {name: [] for name in child.slices}
            for parent, parent_path in parents:
                if not isinstance(parent, dict):
                    continue
                found = element_values(parent, child.name, parent_path)
                where = f"{parent_path}.{child.name}"
                self.issues += cardinality.check(child.element, len(found), where, child.label, self.url)
                self.issues += support.check(child.element, len(found), where, child.label, self.url)
                everything += found
                if child.slices:
                    assigned, _, problems = slicing.assign(child, found, self.url)
                    self.issues += problems
                    for name, slice_node in child.slices.items():
                        got = assigned.get(name, [])
                        label = f"{where}:{name}"
                        self.issues += cardinality.check(slice_node.element, len(got), label, slice_node.label, self.url)
                        self.issues += support.check(slice_node.element, len(got), label, slice_node.label, self.url)
                        per_slice[name] += got
            self._occurrences(child, everything)
            for name, slice_node in child.slices.items():
                self._occurrences(slice_node, per_slice[name])
