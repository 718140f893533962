"""``/app/static/{name}``: the stylesheet(s) that come with the package, cached by content hash."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from ...fhir.outcome import not_found
from ..layout import asset

router = APIRouter()

_TYPES = {".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}


@router.get("/app/static/{name}", include_in_schema=False)
async def static(name: str) -> Response:
    suffix = name[name.rfind("."):] if "." in name else ""
    if "/" in name or name.startswith(".") or suffix not in _TYPES:
        raise not_found(f"No such file: {name}")
    try:
        body = asset(name)
    except FileNotFoundError:
        raise not_found(f"No such file: {name}") from None
    return Response(body, media_type=_TYPES[suffix], headers={"Cache-Control": "public, max-age=31536000, immutable"})
