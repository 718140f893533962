"""``POST [base]/{type}/$validate`` and ``POST [base]/{type}/{id}/$validate``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...fhir.operations.validate import run_validate
from ..negotiation import check_accept, fhir_response, parse_fhir_body, wants_pretty
from ..requests import off_loop, query_items, read_body
from ..responses import repo_of

router = APIRouter()


async def _validate(request: Request, type_: str, id_: str | None) -> Response:
    check_accept(request)
    repo = repo_of(request)
    raw = await read_body(request, repo.settings)
    body = None
    if raw.strip():
        body = await off_loop(len(raw), parse_fhir_body, request, raw)
    outcome = await run_validate(repo, type_, id_, body, query_items(request))
    return fhir_response(outcome, pretty=wants_pretty(request))


@router.post("/{type_:rtype}/$validate")
async def validate_type(request: Request, type_: str) -> Response:
    return await _validate(request, type_, None)


@router.post("/{type_:rtype}/{id_}/$validate")
async def validate_instance(request: Request, type_: str, id_: str) -> Response:
    return await _validate(request, type_, id_)
