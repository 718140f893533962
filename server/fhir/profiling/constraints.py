"""A profile's own invariants (``constraint`` with a FHIRPath ``expression``), on each occurrence."""

from __future__ import annotations

from typing import Any

from ..outcome import Issue
from .fhirpath import NotEvaluable, holds
from .instance import finding

_CORE = "http://hl7.org/fhir/StructureDefinition/"


def _base() -> Any:
    from . import base_invariants  # it uses invariant() below

    return base_invariants


def invariant(key: str, severity: str, expression: str, text: str, node: Any, path: str, base: str, resource: Any,
              profile: str, root: Any = None) -> Issue | None:
    """The finding of one invariant on one occurrence (None when it holds); an expression the engine
    cannot evaluate on this content is a warning, never an error. ``root`` is %rootResource (the
    container of a contained resource), ``resource`` when not given."""
    try:
        ok = holds(expression, node, base, resource, root)
    except NotEvaluable as exc:
        return finding(f"invariant {key}", "warning", "not-supported", path, f"the invariant could not be evaluated ({exc})", profile)
    return None if ok else finding(f"invariant {key}", severity, "invariant", path, text, profile)


def check(el: dict[str, Any], value: Any, path: str, base: str, resource: Any, profile: str) -> list[Issue]:
    issues: list[Issue] = []
    for c in el.get("constraint") or []:
        if not isinstance(c, dict) or not isinstance(c.get("expression"), str) or not isinstance(c.get("key"), str):
            continue
        key = c["key"]
        if str(c.get("source", "")).startswith(_CORE) and _base().covers(key, c["expression"]):
            continue  # copied from the base specification into the profile: the base check runs it once
        severity = "warning" if c.get("severity") == "warning" else "error"
        text = c.get("human") if isinstance(c.get("human"), str) else c["expression"]
        found = invariant(key, severity, c["expression"], f"{text} [{c['expression']}]", value, path, base, resource, profile)
        if found is not None:
            issues.append(found)
    return issues
