"""Content negotiation: which format a client asked for and which body type it sent.

Only JSON is served. ``_format`` wins over ``Accept`` (as the spec says); a request that
accepts only XML or another type gets 406, a body in another type gets 415.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from .. import jsonio
from ..fhir.outcome import FhirError

FHIR_JSON = "application/fhir+json"
_JSON_FORMATS = {"json", "application/json", "application/fhir+json", "application/json+fhir", "text/json"}
_JSON_ACCEPT = {"application/fhir+json", "application/json", "application/json+fhir", "*/*", "application/*", "text/json"}


def _media_types(header: str) -> list[str]:
    return [part.split(";")[0].strip().lower() for part in header.split(",") if part.strip()]


def check_accept(request: Request) -> None:
    """Raise 406 unless the client accepts JSON (``_format`` overrides ``Accept``)."""
    fmt = request.query_params.get("_format")
    if fmt is not None:
        if fmt.split(";")[0].strip().lower() not in _JSON_FORMATS:
            raise FhirError.of(406, "not-supported", f"_format '{fmt}' is not supported; this server speaks JSON (_format=json)")
        return
    accept = request.headers.get("accept")
    if accept and not any(t in _JSON_ACCEPT for t in _media_types(accept)):
        raise FhirError.of(406, "not-supported", f"Accept '{accept}' is not supported; use application/fhir+json")


def check_content_type(request: Request) -> None:
    """Raise 415 unless the body is declared as JSON (a missing Content-Type is read as JSON)."""
    ctype = request.headers.get("content-type")
    if ctype and (_media_types(ctype) or [""])[0] not in _JSON_FORMATS:
        raise FhirError.of(415, "not-supported", f"Content-Type '{ctype}' is not supported; send application/fhir+json")


def fhir_response(body: Any, status: int = 200, headers: dict[str, str] | None = None, *, pretty: bool = False) -> Response:
    content = b"" if body is None else jsonio.dumps(body, pretty=pretty)
    media = None if body is None else f"{FHIR_JSON}; charset=utf-8"
    return Response(content=content, status_code=status, headers=headers, media_type=media)


def wants_pretty(request: Request) -> bool:
    return request.query_params.get("_pretty") == "true"
