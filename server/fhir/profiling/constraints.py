"""A profile's own invariants (``constraint`` with a FHIRPath ``expression``), on each occurrence."""

from __future__ import annotations

from typing import Any

from ..outcome import Issue
from .fhirpath import NotEvaluable, holds
from .instance import finding

#: invariants of the base specification copied into profiles; the base check runs them once
BASE_KEYS_PREFIXES = ("ele-", "ext-", "dom-")


def check(el: dict[str, Any], value: Any, path: str, base: str, resource: Any, profile: str) -> list[Issue]:
    issues: list[Issue] = []
    for c in el.get("constraint") or []:
        if not isinstance(c, dict) or not isinstance(c.get("expression"), str) or not isinstance(c.get("key"), str):
            continue
        key = c["key"]
        if key.startswith(BASE_KEYS_PREFIXES) and c.get("source", "").startswith("http://hl7.org/fhir/"):
            continue
        severity = "warning" if c.get("severity") == "warning" else "error"
        try:
            ok = holds(c["expression"], value, base, resource)
        except NotEvaluable as exc:
            issues.append(finding(f"invariant {key}", "warning", "not-supported", path, f"the invariant could not be evaluated ({exc})", profile))
            continue
        if not ok:
            text = c.get("human") if isinstance(c.get("human"), str) else c["expression"]
            issues.append(finding(f"invariant {key}", severity, "invariant", path, f"{text} [{c['expression']}]", profile))
    return issues
