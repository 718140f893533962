"""Writes as plain tuples, to move them between processes cheaply.

Pickling the slotted dataclasses of :mod:`.base` and :mod:`.index` costs ~90 µs per
resource; plain tuples of str/int/bytes cost ~10. Bulk work that prepares writes in
worker processes (seeding, imports) packs them there and unpacks them next to the store.
"""

from __future__ import annotations

from dataclasses import fields
from operator import attrgetter
from typing import Any

from .base import Version, Write
from .index import DateValue, NumberValue, QuantityValue, ReferenceValue, StringValue, TokenValue, UriValue

_KINDS = (TokenValue, StringValue, DateValue, ReferenceValue, NumberValue, QuantityValue, UriValue)
_NUMBER = {cls: n for n, cls in enumerate(_KINDS)}
_GET = {cls: attrgetter(*(f.name for f in fields(cls))) for cls in _KINDS}

Packed = tuple[Any, ...]


def pack(writes: list[Write]) -> list[Packed]:
    out = []
    for w in writes:
        v = w.version
        rows = tuple((_NUMBER[type(r)], _GET[type(r)](r)) for r in w.index)
        out.append((v.type, v.id, v.vid, v.ts, v.method, v.body, w.expect_vid, rows))
    return out


def unpack(packed: list[Packed]) -> list[Write]:
    kinds = _KINDS
    return [
        Write(Version(t, i, vid, ts, method, body), tuple(kinds[k](*values) for k, values in rows), expect)
        for t, i, vid, ts, method, body, expect, rows in packed
    ]
