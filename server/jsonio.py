"""JSON in and out, keeping FHIR decimals exact.

FHIR says the precision of a decimal is significant (``62.50`` is not ``62.5``), so
numbers with a fraction or exponent are parsed as :class:`decimal.Decimal` and written
back verbatim. Everything else goes through ``orjson`` for speed.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import orjson

__all__ = ["loads", "dumps", "JSONDecodeError"]

JSONDecodeError = json.JSONDecodeError


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value))
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _int(text: str) -> int | Decimal:
    # Integers beyond 64 bits cannot be written back by orjson; as Decimal they round-trip.
    return int(text) if len(text) < 19 else Decimal(text)


def loads(data: bytes | str) -> Any:
    """Parse JSON; decimals stay :class:`Decimal`. Raises ``JSONDecodeError`` or ``RecursionError``."""
    if isinstance(data, bytes):
        data = data.decode("utf-8")
    return json.loads(data, parse_float=Decimal, parse_int=_int)


def dumps(value: Any, *, pretty: bool = False) -> bytes:
    """Serialise to UTF-8 JSON bytes."""
    option = orjson.OPT_INDENT_2 if pretty else 0
    return orjson.dumps(value, default=_default, option=option)
