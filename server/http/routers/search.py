"""Search: ``GET /{type}``, ``POST /{type}/_search`` (form-encoded) and ``GET /?_type=…`` across types."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...fhir.outcome import FhirError, bad_request, operation_outcome
from ...fhir.paging import decode_cursor, link
from ...fhir.resource import body_of
from ...fhir.search.elements import trim
from ...fhir.search.execute import SearchResult
from ...fhir.search.parse import ParsedSearch, split_commas
from ..negotiation import check_accept, fhir_response, wants_pretty
from ..requests import Prefer, query_items
from ..responses import base_url, repo_of
from .home import base_without_query

router = APIRouter()


def searchset(base: str, url: str, parsed: ParsedSearch, result: SearchResult, state: dict[str, Any]) -> dict[str, Any]:
    """The ``searchset`` Bundle of one page, with ``self``/``next``/``previous`` links."""
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if result.total is not None:
        bundle["total"] = result.total
    links = [link("self", url, parsed.applied, parsed.count, state or None)]
    if result.next_state:
        links.append(link("next", url, parsed.applied, parsed.count, result.next_state))
    if result.prev_state:
        links.append(link("previous", url, parsed.applied, parsed.count, result.prev_state))
    bundle["link"] = links
    if parsed.summary == "count":
        return bundle
    entries = []
    for mode, versions in (("match", result.matches), ("include", result.included)):
        for v in versions:
            resource = trim(body_of(v), parsed.summary, parsed.elements)
            entries.append({"fullUrl": f"{base}/{v.type}/{v.id}", "resource": resource, "search": {"mode": mode}})
    if parsed.ignored or result.notes:
        entries.append({"resource": operation_outcome(parsed.ignored + result.notes), "search": {"mode": "outcome"}})
    bundle["entry"] = entries
    return bundle


async def _search(request: Request, types: tuple[str, ...], params: list[tuple[str, str]], *, across: bool = False) -> Response:
    check_accept(request)
    repo = repo_of(request)
    for t in types:
        repo.check_type(t)
    parsed = repo.parser.parse(types, params, strict=Prefer.of(request).strict)
    if parsed.summary == "count":
        parsed.count = 0
    state = decode_cursor(dict(params).get("_cursor"))
    if across:
        result = await repo.search(None, parsed, state, types=types)
        url = base_url(request)
        parsed.applied.insert(0, ("_type", ",".join(types)))
    else:
        result = await repo.search(types[0], parsed, state)
        url = f"{base_url(request)}/{types[0]}"
    return fhir_response(searchset(base_url(request), url, parsed, result, state), pretty=wants_pretty(request))


@router.get("")
@router.get("/", include_in_schema=False)
async def search_all(request: Request) -> Response:
    params = query_items(request)
    if not params:
        return await base_without_query(request)
    type_values = [v for k, v in params if k == "_type"]
    if not type_values:
        raise bad_request("A search across types needs _type (e.g. ?_type=Patient,Observation)", "_type")
    types = tuple(dict.fromkeys(t.strip() for v in type_values for t in split_commas(v) if t.strip()))
    return await _search(request, types, [(k, v) for k, v in params if k != "_type"], across=True)


@router.get("/{type_:rtype}")
async def search_get(request: Request, type_: str) -> Response:
    return await _search(request, (type_,), query_items(request))


@router.post("/{type_:rtype}/_search")
async def search_post(request: Request, type_: str) -> Response:
    ctype = request.headers.get("content-type", "")
    if ctype and not ctype.startswith("application/x-www-form-urlencoded"):
        raise FhirError.of(415, "not-supported", "POST _search takes application/x-www-form-urlencoded parameters")
    body = (await request.body()).decode("utf-8", errors="replace")
    return await _search(request, (type_,), query_items(request) + parse_qsl(body, keep_blank_values=True))
