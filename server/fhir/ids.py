"""Ids the server assigns: UUIDv7 (RFC 9562), time-ordered.

Why not random UUIDs: a store keeps its resources in B-trees keyed by id, and a random key
lands on a random page, so every create dirties (and commits) pages all over the file; ids
that grow with time land on the last page. They look like any UUID to a client, and say no
more than ``meta.lastUpdated`` already does (when the resource was made).
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_seq = 0


def new_id() -> str:
    """A new UUIDv7 string; ids made by one process are strictly increasing (RFC 9562 §6.2,
    method 1: a 12-bit counter within the millisecond, the clock borrowed from when it runs out)."""
    global _last_ms, _seq
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms > _last_ms:
            _last_ms, _seq = ms, int.from_bytes(os.urandom(2), "big") & 0x3FF  # room to count up
        else:
            _seq += 1
            if _seq > 0xFFF:
                _last_ms, _seq = _last_ms + 1, 0
        ms, seq = _last_ms, _seq
    tail = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | seq << 64 | 0b10 << 62 | tail
    return str(uuid.UUID(int=value))
