"""fixed[x] and pattern[x]: fixed = exactly this value; pattern = the instance contains it."""

from __future__ import annotations

from typing import Any

from ..outcome import Issue
from .elements import fixed_or_pattern
from .instance import finding


def contains(pattern: Any, value: Any) -> bool:
    """Whether ``value`` has everything ``pattern`` has (lists: each pattern item matched by some item)."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(k in value and contains(p, value[k]) for k, p in pattern.items())
    if isinstance(pattern, list):
        items = value if isinstance(value, list) else [value]
        return all(any(contains(p, v) for v in items) for p in pattern)
    if isinstance(pattern, bool) or isinstance(value, bool):
        return pattern is value
    return pattern == value


def matches(kind: str, expected: Any, value: Any) -> bool:
    if kind == "fixed":
        if isinstance(expected, bool) or isinstance(value, bool):
            return expected is value
        return expected == value
    return contains(expected, value)


def check(el: dict[str, Any], value: Any, path: str, profile: str) -> list[Issue]:
    got = fixed_or_pattern(el)
    if got is None:
        return []
    kind, expected = got
    if matches(kind, expected, value):
        return []
    verb = "must be exactly" if kind == "fixed" else "must contain"
    return [finding(kind, "error", "value", path, f"the value {verb} {_show(expected)}", profile)]


def _show(value: Any) -> str:
    import json

    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 200 else text[:197] + "..."
