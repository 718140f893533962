"""``GET /metadata``: the CapabilityStatement."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...fhir.capability import capability_statement
from ..negotiation import check_accept, fhir_response, wants_pretty
from ..responses import base_url

router = APIRouter()


@router.get("/metadata")
async def metadata(request: Request) -> Response:
    check_accept(request)
    repo = request.app.state.repo  # public: no token, so no request-scoped repository
    body = capability_statement(repo, base_url(request), request.app.version, repo.store.kind)
    return fhir_response(body, pretty=wants_pretty(request))
