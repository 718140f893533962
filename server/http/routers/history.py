"""History at instance, type and system level: ``_since``, ``_at``, ``_count``, page links."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...fhir.dates import instant, range_param
from ...fhir.outcome import bad_request
from ...fhir.paging import decode_cursor, page_links
from ...fhir.repository import now_us
from ...fhir.resource import body_of, etag
from ...storage.base import HistoryQuery, Version
from ..negotiation import check_accept, fhir_response, wants_pretty
from ..requests import query_items
from ..responses import base_url, repo_of

router = APIRouter()

_HISTORY_PARAMS = {"_since", "_at", "_count", "_cursor", "_format", "_pretty"}


def _entry(base: str, v: Version) -> dict[str, Any]:
    url = f"{v.type}/{v.id}"
    entry: dict[str, Any] = {"fullUrl": f"{base}/{url}"}
    if not v.deleted:
        entry["resource"] = body_of(v)
    entry["request"] = {"method": v.method, "url": url if v.method != "POST" else v.type}
    status = {"POST": "201 Created", "PUT": "200 OK", "DELETE": "204 No Content"}[v.method]
    if v.method == "PUT" and v.vid == 1:
        status = "201 Created"
    entry["response"] = {"status": status, "etag": etag(v.vid), "lastModified": instant(v.ts)}
    return entry


async def _history(request: Request, type_: str | None, id_: str | None) -> Response:
    check_accept(request)
    repo = repo_of(request)
    if type_ is not None:
        repo.check_type(type_)
    params = query_items(request)
    unknown = sorted({k for k, _ in params} - _HISTORY_PARAMS)
    if unknown:
        raise bad_request(f"Unknown history parameter(s): {', '.join(unknown)}; supported: _since, _at, _count", *unknown)
    q = dict(params)
    count = repo.settings.default_count
    if "_count" in q:
        count = repo.parser.parse_count(q["_count"])
    state = decode_cursor(q.get("_cursor"))
    till = state.get("till", now_us())
    offset = state.get("offset", 0)
    since = range_param("_since", q["_since"])[0] if "_since" in q else None
    at = range_param("_at", q["_at"]) if "_at" in q else None
    if id_ is not None:
        await repo.read_any(type_, id_)  # type: ignore[arg-type]
    page = await repo.history(HistoryQuery(type_, id_, since, at, till, offset, count + 1))
    has_next = len(page.versions) > count
    base = base_url(request)
    path = "/".join(p for p in (base, type_, id_, "_history") if p)
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "history"}
    if page.total is not None:
        bundle["total"] = page.total
    # a guarded store that filtered the page tells where each shown version was in the full history
    next_offset = page.keys[count - 1][0] if has_next and page.keys else offset + count
    bundle["link"] = page_links(path, params, {"till": till, "offset": offset}, count, has_next, next_offset)
    bundle["entry"] = [_entry(base, v) for v in page.versions[:count]]
    return fhir_response(bundle, pretty=wants_pretty(request))


@router.get("/_history")
async def system_history(request: Request) -> Response:
    return await _history(request, None, None)


@router.get("/{type_:rtype}/_history")
async def type_history(request: Request, type_: str) -> Response:
    return await _history(request, type_, None)


@router.get("/{type_:rtype}/{id_}/_history")
async def instance_history(request: Request, type_: str, id_: str) -> Response:
    return await _history(request, type_, id_)
