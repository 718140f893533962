"""Cardinality: how many times an element (or one slice of it) occurs in its parent."""

from __future__ import annotations

from typing import Any

from ..outcome import Issue
from .instance import finding


def bounds(el: dict[str, Any]) -> tuple[int | None, int | None]:
    """(min, max) as the element states them; ``None`` where it does not ("*" → None)."""
    low = el.get("min") if isinstance(el.get("min"), int) and not isinstance(el.get("min"), bool) else None
    high_raw = el.get("max")
    high = int(high_raw) if isinstance(high_raw, str) and high_raw.isdigit() else None
    return low, high


def check(el: dict[str, Any], count: int, path: str, what: str, profile: str) -> list[Issue]:
    low, high = bounds(el)
    issues: list[Issue] = []
    if low is not None and count < low:
        issues.append(finding("cardinality", "error", "required", path, f"occurs {count} time(s); the profile requires at least {low}", profile))
    if high is not None and count > high:
        text = "is not allowed by the profile (max 0)" if high == 0 else f"occurs {count} time(s); the profile allows at most {high}"
        issues.append(finding("cardinality", "error", "value", path, text, profile))
    return issues
