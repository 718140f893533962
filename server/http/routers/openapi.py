"""``GET /openapi.json`` (the OpenAPI description) and ``GET /docs`` (a page that reads it).

Public like ``/metadata``: they describe the API, not data. The description is built once per
base URL and kept (it changes only with a release); the page is self-contained (no CDN, no
file from elsewhere), its one inline script allowed by a hash in its own CSP.
"""

from __future__ import annotations

import hashlib
from base64 import b64encode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ... import jsonio
from ...fhir.capability import capability_statement
from ...fhir.openapi import openapi_document
from ..apidocs import PAGE, SCRIPT
from ..responses import base_url

router = APIRouter()

#: one cached description per base URL (a server is reached under a handful of names)
_MAX_CACHED = 8
_CACHE_CONTROL = "public, max-age=3600"
_SCRIPT_HASH = b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
_PAGE_CSP = f"default-src 'none'; script-src 'sha256-{_SCRIPT_HASH}'; connect-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'"


def description_bytes(request: Request) -> bytes:
    """The serialised description for this request's base URL, built on first use."""
    cache = _cache_of(request)
    base = base_url(request)
    body = cache.get(base)
    if body is None:
        repo = request.app.state.repo
        cs = capability_statement(repo, base, request.app.version, repo.store.kind)
        body = jsonio.dumps(openapi_document(cs, base))
        if len(cache) >= _MAX_CACHED:
            cache.pop(next(iter(cache)))
        cache[base] = body
    return body


def _cache_of(request: Request) -> dict[str, bytes]:
    state = request.app.state
    if not hasattr(state, "openapi_cache"):
        state.openapi_cache = {}
    return state.openapi_cache  # type: ignore[no-any-return]


@router.get("/openapi.json")
async def openapi_json(request: Request) -> Response:
    return Response(content=description_bytes(request), media_type="application/json", headers={"Cache-Control": _CACHE_CONTROL})


@router.get("/docs")
async def docs(request: Request) -> Response:
    return Response(content=PAGE, media_type="text/html; charset=utf-8", headers={"Cache-Control": _CACHE_CONTROL, "Content-Security-Policy": _PAGE_CSP})
