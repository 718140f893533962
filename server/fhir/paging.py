"""Page links of searchset and history Bundles.

The position of a page travels in an opaque ``_cursor`` parameter (base64 of a small
JSON object: offset and, for history, the snapshot instant), so links stay valid URLs
that the client follows as they are.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import urlencode

from .. import jsonio
from .outcome import bad_request


def encode_cursor(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(jsonio.dumps(state)).decode("ascii").rstrip("=")


def decode_cursor(token: str | None) -> dict[str, Any]:
    if not token:
        return {}
    try:
        state = jsonio.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error, RecursionError):
        raise bad_request("_cursor is not a page token issued by this server", "_cursor") from None
    if not isinstance(state, dict) or not all(isinstance(v, int) and v >= 0 for v in state.values()):
        raise bad_request("_cursor is not a page token issued by this server", "_cursor")
    return state


def page_links(url: str, params: list[tuple[str, str]], state: dict[str, Any], count: int, has_next: bool) -> list[dict[str, str]]:
    """``self``, ``next`` and ``previous`` links for the page at ``state['offset']``."""

    def link(relation: str, offset: int) -> dict[str, str]:
        query = [(k, v) for k, v in params if k not in ("_cursor", "_count")] + [("_count", str(count))]
        if offset or "till" in state:
            query.append(("_cursor", encode_cursor({**state, "offset": offset})))
        return {"relation": relation, "url": f"{url}?{urlencode(query)}"}

    offset = state.get("offset", 0)
    links = [link("self", offset)]
    if has_next:
        links.append(link("next", offset + count))
    if offset > 0:
        links.append(link("previous", max(0, offset - count)))
    return links
