"""FHIR operations (``$name``): each operation's logic lives in ``server/fhir/operations/``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...fhir.operations.everything import everything
from ...fhir.paging import decode_cursor
from ...fhir.search.parse import ParsedSearch
from ..negotiation import check_accept, fhir_response, wants_pretty
from ..requests import query_items
from ..responses import base_url, repo_of
from .search import searchset

router = APIRouter()


@router.get("/Patient/{id_}/$everything")
async def patient_everything(request: Request, id_: str) -> Response:
    """The Patient compartment plus what it refers to, paged (``_since``, ``_type``, ``_count``)."""
    check_accept(request)
    repo = repo_of(request)
    params = [(k, v) for k, v in query_items(request) if k in ("_since", "_type", "_count", "_cursor")]
    state = decode_cursor(dict(params).get("_cursor"))
    result = await everything(repo, id_, params, state)
    applied = [(k, v) for k, v in params if k in ("_since", "_type")]
    count = int(dict(params).get("_count", repo.settings.default_count))
    shown = ParsedSearch(None, count, "accurate", applied=applied)
    url = f"{base_url(request)}/Patient/{id_}/$everything"
    return fhir_response(searchset(base_url(request), url, shown, result, state), pretty=wants_pretty(request))
