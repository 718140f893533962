"""``POST /fhir``: transaction and batch Bundles."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...fhir.bundles import BundleProcessor
from ..negotiation import check_accept, fhir_response, wants_pretty
from ..requests import Prefer, read_fhir_body
from ..responses import base_url, repo_of

router = APIRouter()


@router.post("")
@router.post("/", include_in_schema=False)
async def transaction_or_batch(request: Request) -> Response:
    check_accept(request)
    repo = repo_of(request)
    prefer = Prefer.of(request, "minimal")
    processor = BundleProcessor(repo, prefer_return=prefer.return_, base=base_url(request), strict_search=prefer.strict)
    btype, entries = await read_fhir_body(request, repo.settings, processor.parse)  # checks every entry
    state = request.scope["state"]
    state["interaction"] = btype  # for the audit trail
    state["audit_always"] = btype == "batch"  # entries fail alone: the request's own event records them
    if btype == "transaction":
        out = await processor.transaction(entries)
    else:
        out = await processor.batch(entries)
    body = {"resourceType": "Bundle", "type": f"{btype}-response", "entry": out}
    return fhir_response(body, pretty=wants_pretty(request))
