"""mustSupport: an absent element the profile marks as must-support is reported as information."""

from __future__ import annotations

from typing import Any

from ..outcome import Issue
from .instance import finding


def check(el: dict[str, Any], count: int, path: str, what: str, profile: str) -> list[Issue]:
    if count or el.get("mustSupport") is not True or (isinstance(el.get("min"), int) and el["min"] > 0):
        return []  # present, not must-support, or already an error of cardinality
    return [finding("mustSupport", "information", "informational", path, "is must-support in the profile and absent", profile)]
