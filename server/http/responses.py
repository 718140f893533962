"""HTTP responses for FHIR results: headers from versions, bodies as ``Prefer`` asks."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from ..fhir.dates import http_date
from ..fhir.outcome import FhirError, Issue, operation_outcome
from ..fhir.repository import Repository, Result
from ..fhir.resource import body_of, etag
from ..fhir.search.elements import parse_elements, parse_summary, trim
from ..storage.base import Version
from .auditing import WriteAudit
from .negotiation import fhir_response, wants_pretty
from .requests import Prefer


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/fhir"


def repo_of(request: Request) -> Repository:
    """The repository as this request's token sees it (made once per request).

    Fails closed: a request that did not pass the security middleware has no access."""
    state = request.scope.setdefault("state", {})
    view = state.get("repo")
    if view is None:
        access = state.get("access")
        if access is None:
            raise FhirError.of(401, "login", "Not authenticated")
        view = request.app.state.repo.scoped(access, WriteAudit(request), base_url(request))
        state["repo"] = view
    return view


def version_headers(v: Version) -> dict[str, str]:
    return {"ETag": etag(v.vid), "Last-Modified": http_date(v.ts)}


def read_response(request: Request, v: Version) -> Response:
    inm = request.headers.get("if-none-match")
    if inm and etag(v.vid) in [t.strip() if t.strip().startswith("W/") else "W/" + t.strip() for t in inm.split(",")]:
        return Response(status_code=304, headers=version_headers(v))
    return fhir_response(_subset(request, body_of(v)), 200, version_headers(v), pretty=wants_pretty(request))


def _subset(request: Request, resource: Any) -> Any:
    """A read's resource as ``_summary``/``_elements`` ask (the search's own trimming, tagged
    ``SUBSETTED``); ``_summary=count`` only means something for a search."""
    params = request.query_params
    elements = parse_elements(params.getlist("_elements"))
    summary = parse_summary(params.get("_summary"))
    if summary == "count":
        raise FhirError.of(400, "invalid", "_summary=count asks for the number of matches of a search; a read has none (use true, text, data or false)", "_summary")
    return trim(resource, summary, elements) if summary or elements else resource


def write_response(request: Request, result: Result, prefer: Prefer) -> Response:
    v = result.version
    headers = version_headers(v)
    if result.status == 201 or request.method in ("PUT", "POST"):
        headers["Location"] = f"{base_url(request)}/{v.type}/{v.id}/_history/{v.vid}"
    body: Any
    if prefer.return_ == "minimal":
        body = None
    elif prefer.return_ == "OperationOutcome":
        body = operation_outcome(result.issues or [Issue("informational", f"{request.method} {v.type}/{v.id} succeeded (version {v.vid})", severity="information")])
    else:
        body = result.resource
    return fhir_response(body, result.status, headers, pretty=wants_pretty(request))
