"""Type-level search: ``GET /{type}`` and ``POST /{type}/_search``."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...fhir.outcome import operation_outcome
from ...fhir.paging import decode_cursor, page_links
from ...fhir.resource import body_of
from ..negotiation import check_accept, fhir_response, wants_pretty
from ..requests import Prefer, query_items
from ..responses import base_url, repo_of

router = APIRouter()


async def _search(request: Request, type_: str, params: list[tuple[str, str]]) -> Response:
    check_accept(request)
    repo = repo_of(request)
    repo.check_type(type_)
    parsed = repo.parse_search(type_, params, strict=Prefer.of(request).strict)
    state = decode_cursor(dict(params).get("_cursor"))
    offset = state.get("offset", 0)
    page, has_next = await repo.search(type_, parsed, offset)
    base = base_url(request)
    total = page.total
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if total is not None:
        bundle["total"] = total
    link_params = parsed.applied + ([("_total", parsed.total)] if parsed.total != "accurate" else [])
    bundle["link"] = page_links(f"{base}/{type_}", link_params, {"offset": offset}, parsed.count, has_next)
    entries = [{"fullUrl": f"{base}/{v.type}/{v.id}", "resource": body_of(v), "search": {"mode": "match"}} for v in page.versions]
    if parsed.ignored:
        entries.append({"resource": operation_outcome(parsed.ignored), "search": {"mode": "outcome"}})
    bundle["entry"] = entries
    return fhir_response(bundle, pretty=wants_pretty(request))


@router.get("/{type_}")
async def search_get(request: Request, type_: str) -> Response:
    return await _search(request, type_, query_items(request))


@router.post("/{type_}/_search")
async def search_post(request: Request, type_: str) -> Response:
    ctype = request.headers.get("content-type", "")
    body = (await request.body()).decode("utf-8", errors="replace") if ctype.startswith("application/x-www-form-urlencoded") else ""
    return await _search(request, type_, query_items(request) + parse_qsl(body, keep_blank_values=True))
