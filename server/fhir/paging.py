"""Page links of searchset and history Bundles.

The position of a page travels in an opaque ``_cursor`` parameter: a small JSON object
(history: snapshot instant and offset; search: the keyset key after or before which the
page starts, and a fingerprint of the sort it belongs to), base64-encoded and signed
with a key of this server process, so a cursor that was not issued here, or was issued
for another sort, is a clear 400 and never reaches a store.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from typing import Any
from urllib.parse import urlencode

from .. import jsonio
from .outcome import bad_request

_KEY = os.urandom(32)
_SIG = 12  # bytes of HMAC kept


def encode_cursor(state: dict[str, Any]) -> str:
    payload = jsonio.dumps(state)
    sig = hmac.new(_KEY, payload, hashlib.sha256).digest()[:_SIG]
    return base64.urlsafe_b64encode(sig + payload).decode("ascii").rstrip("=")


def decode_cursor(token: str | None) -> dict[str, Any]:
    if not token:
        return {}
    invalid = bad_request("_cursor is not a page token issued by this server (or it has expired with a restart)", "_cursor")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, binascii.Error):
        raise invalid from None
    sig, payload = raw[:_SIG], raw[_SIG:]
    if not hmac.compare_digest(sig, hmac.new(_KEY, payload, hashlib.sha256).digest()[:_SIG]):
        raise invalid
    state = jsonio.loads(payload)
    if not isinstance(state, dict):
        raise invalid
    return state


def link(relation: str, url: str, params: list[tuple[str, str]], count: int, state: dict[str, Any] | None) -> dict[str, str]:
    query = [(k, v) for k, v in params if k not in ("_cursor", "_count")] + [("_count", str(count))]
    if state:
        query.append(("_cursor", encode_cursor(state)))
    return {"relation": relation, "url": f"{url}?{urlencode(query)}"}


def page_links(url: str, params: list[tuple[str, str]], state: dict[str, Any], count: int, has_next: bool, next_offset: int | None = None) -> list[dict[str, str]]:
    """Offset paging (history): ``self``, ``next`` and ``previous`` for the page at ``state['offset']``
    (``next_offset``: where the next page starts, when a filter made pages skip rows)."""
    offset = state.get("offset", 0)

    def at(relation: str, position: int) -> dict[str, str]:
        return link(relation, url, params, count, {**state, "offset": position} if position or "till" in state else None)

    links = [at("self", offset)]
    if has_next:
        links.append(at("next", next_offset if next_offset is not None else offset + count))
    if offset > 0:
        links.append(at("previous", max(0, offset - count)))
    return links
