"""Slicing: which occurrences belong to which slice, and the slicing rules (closed/open).

Discriminators understood: ``value`` and ``pattern`` on any relative path (``system``,
``type``, ``code.coding``, ``$this``…) whose expected value the slice fixes or patterns, and
``url`` of extensions (from the slice's type profile). Extension elements are sliced by url
even when the profile does not declare it, as FHIR defines.
"""

from __future__ import annotations

from typing import Any

from ..outcome import Issue
from .elements import Node, fixed_or_pattern
from .instance import Item, finding, values_at
from .values import contains, matches

_EXTENSION_SLICING = {"discriminator": [{"type": "value", "path": "url"}], "rules": "open"}
_SUPPORTED = frozenset({"value", "pattern"})


def slicing_of(node: Node) -> dict[str, Any] | None:
    s = node.element.get("slicing")
    if isinstance(s, dict):
        return s
    if node.slices and node.name in ("extension", "modifierExtension"):
        return _EXTENSION_SLICING
    return None


def _expected(slice_node: Node, path: str) -> tuple[str, Any] | None:
    """What the slice fixes at ``path``: from a child element, else from the slice's own pattern."""
    if path == "url" and slice_node.name in ("extension", "modifierExtension"):
        for t in slice_node.element.get("type") or []:
            if isinstance(t, dict) and t.get("profile"):
                prof = t["profile"]
                return "fixed", prof[0] if isinstance(prof, list) else prof
    if path in ("$this", ""):
        got = fixed_or_pattern(slice_node.element)
        return got
    # down the path: the first element on it that is fixed or patterned gives the value, the
    # rest of the path read inside that value (VN Core patterns ``use`` and discriminates on
    # ``use.coding.code``)
    parts = path.split(".")
    node: Node | None = slice_node
    for n, part in enumerate(parts):
        node = node.children.get(part) if node is not None else None
        if node is None:
            break
        got = fixed_or_pattern(node.element)
        if got is not None:
            if n == len(parts) - 1:
                return got
            inside = values_at(got[1], ".".join(parts[n + 1:]))
            if len(inside) == 1:
                return got[0], inside[0]
            break
    own = fixed_or_pattern(slice_node.element)
    if own is not None and path not in ("$this", ""):
        inside = values_at(own[1], path)
        if len(inside) == 1:
            return own[0], inside[0]
    return None


def _belongs(value: Any, slice_node: Node, discriminators: list[dict[str, Any]]) -> bool | None:
    """True/False, or None when the slice fixes none of the discriminators' values."""
    decided = False
    for d in discriminators:
        path = str(d.get("path") or "$this")
        expected = _expected(slice_node, path)
        if expected is None:
            continue  # this slice does not constrain that discriminator: it does not decide
        decided = True
        kind, want = expected
        got = values_at(value, path)
        if d.get("type") == "pattern":
            kind = "pattern"
        if not any((matches(kind, want, g) if kind == "fixed" else contains(want, g)) for g in got):
            return False
    return True if decided else None


def assign(node: Node, items: list[Item], profile: str) -> tuple[dict[str, list[Item]], list[Item], list[Issue]]:
    """Occurrences per slice (first matching slice wins), the unmatched ones, and problems."""
    spec = slicing_of(node) or {}
    discriminators = [d for d in spec.get("discriminator") or [] if isinstance(d, dict)]
    per_slice: dict[str, list[Item]] = {name: [] for name in node.slices}
    unmatched: list[Item] = []
    issues: list[Issue] = []
    unsupported = [d.get("type") for d in discriminators if d.get("type") not in _SUPPORTED]
    if unsupported or not discriminators:
        why = f"discriminator type {', '.join(map(str, unsupported))}" if unsupported else "no discriminator"
        issues.append(finding("slice", "information", "not-supported", node.path, f"slicing with {why} is not evaluated", profile))
        return per_slice, list(items), issues
    undecidable: set[str] = set()
    for value, path in items:
        for name, slice_node in node.slices.items():
            verdict = _belongs(value, slice_node, discriminators)
            if verdict is None:
                undecidable.add(name)
            elif verdict:
                per_slice[name].append((value, path))
                break
        else:
            unmatched.append((value, path))
    for name in sorted(undecidable):
        issues.append(finding("slice", "warning", "not-supported", f"{node.path}:{name}", "the slice does not fix a value for its discriminator, so no occurrence can be assigned to it", profile))
    if spec.get("rules") == "closed":
        for value, path in unmatched:
            issues.append(finding("slice", "error", "value", path, f"matches none of the slices of {node.path} ({', '.join(node.slices)}) and the slicing is closed", profile))
    return per_slice, unmatched, issues
