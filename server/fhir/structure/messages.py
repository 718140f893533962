"""Short, safe renderings of JSON values for issue texts (never a whole container)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

__all__ = ["code_list", "json_type", "show"]


def json_type(value: Any) -> str:
    """'a string', 'an array', 'null', ...: what a client sent, in JSON's words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, (Decimal, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def show(value: Any) -> str:
    """A scalar as it may appear in a message: quoted, cut at 60 characters."""
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return json.dumps(text, ensure_ascii=False)
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return str(value) if -(10**30) < value < 10**30 else "a very large integer"
    if isinstance(value, (Decimal, float)):
        text = str(value)
        return text if len(text) <= 40 else "a very long number"
    return json_type(value)


def code_list(codes: frozenset[str]) -> str:
    """The allowed codes, sorted, at most 25 of them."""
    ordered = sorted(codes)
    if len(ordered) > 25:
        return ", ".join(ordered[:25]) + f", ... ({len(ordered)} codes)"
    return ", ".join(ordered)
