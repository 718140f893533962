"""FHIR operations (``$name``): each operation's logic lives in ``server/fhir/operations/``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mappings.transfer54.xml_form import write_xml

from ... import jsonio
from ...fhir.operations.bhyt import export_bhyt, import_bhyt
from ...fhir.operations.everything import everything, everything_all
from ...fhir.operations.meta import added, as_parameters, change_meta, deleted, instance_meta, meta_argument, meta_in_use
from ...fhir.operations.transfer54 import export_transfer54, import_transfer54, read_record
from ...fhir.outcome import FhirError
from ...fhir.paging import decode_cursor
from ...fhir.search.parse import ParsedSearch
from ..negotiation import check_accept, fhir_response, missing_content_type, wants_pretty
from ..requests import Prefer, query_items, read_body, read_fhir_body
from ..responses import base_url, repo_of
from .search import searchset

router = APIRouter()


@router.get("/Patient/$everything")
async def patients_everything(request: Request) -> Response:
    """Every Patient the token may see, each with its compartment and what it refers to, paged."""
    return await _everything(request, None)


@router.get("/Patient/{id_}/$everything")
async def patient_everything(request: Request, id_: str) -> Response:
    """The Patient compartment plus what it refers to, paged (``_since``, ``_type``, ``_count``)."""
    return await _everything(request, id_)


async def _everything(request: Request, id_: str | None) -> Response:
    check_accept(request)
    repo = repo_of(request)
    params = [(k, v) for k, v in query_items(request) if k in ("_since", "_type", "_count", "_cursor")]
    state = decode_cursor(dict(params).get("_cursor"))
    result = await (everything_all(repo, params, state) if id_ is None else everything(repo, id_, params, state))
    applied = [(k, v) for k, v in params if k in ("_since", "_type")]
    count = int(dict(params).get("_count", repo.settings.default_count))
    shown = ParsedSearch(None, count, "accurate", applied=applied)
    url = f"{base_url(request)}/Patient/{'' if id_ is None else id_ + '/'}$everything"
    return fhir_response(searchset(base_url(request), url, shown, result, state), pretty=wants_pretty(request))


@router.post("/$import-transfer54")
async def import_transfer54_op(request: Request) -> Response:
    """Store one 54-field transfer record (JSON, or XML with ``Content-Type: application/xml``)."""
    check_accept(request)
    repo = repo_of(request)
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if not ctype:
        raise missing_content_type("application/json (the JSON form) or application/xml (the XML form)")
    if ctype not in ("application/json", "application/fhir+json", "application/xml", "text/xml"):
        raise FhirError.of(415, "not-supported", f"Content-Type '{ctype}' is not supported; send the JSON form (application/json) or the XML form (application/xml)")
    record = read_record(await read_body(request, repo.settings), xml=ctype.endswith("xml"))
    entries = await import_transfer54(repo, record, prefer_return=Prefer.of(request, "minimal").return_, base=base_url(request))
    return fhir_response({"resourceType": "Bundle", "type": "transaction-response", "entry": entries}, pretty=wants_pretty(request))


@router.get("/Encounter/{id_}/$transfer54")
async def transfer54_op(request: Request, id_: str) -> Response:
    """The record of a stored episode; ``_format=xml`` for the XML form."""
    fmt = (request.query_params.get("_format") or "json").lower()
    if fmt not in ("json", "xml", "application/json", "application/xml"):
        raise FhirError.of(406, "not-supported", f"_format '{fmt}' is not supported here; use json or xml")
    record = await export_transfer54(repo_of(request), id_)
    if fmt.endswith("xml"):
        return Response(content=write_xml(record), media_type="application/xml; charset=utf-8")
    return Response(content=jsonio.dumps(record, pretty=wants_pretty(request)), media_type="application/json; charset=utf-8")


_XML_TYPES = ("application/xml", "text/xml")


@router.post("/$import-bhyt")
async def import_bhyt_op(request: Request) -> Response:
    """Store each HOSO of an insurance envelope (``application/xml``); a batch-response, one entry per HOSO."""
    check_accept(request)
    repo = repo_of(request)
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if not ctype:
        raise missing_content_type("application/xml (the GIAMDINHHS envelope)")
    if ctype not in _XML_TYPES:
        raise FhirError.of(415, "not-supported", f"Content-Type '{ctype}' is not supported; send the GIAMDINHHS envelope as application/xml")
    request.scope["state"]["audit_always"] = True  # HOSOs fail alone: the request's own event records them
    strict = request.query_params.get("strict", "false").lower() in ("true", "1")
    entries = await import_bhyt(repo, await read_body(request, repo.settings), strict=strict)
    return fhir_response({"resourceType": "Bundle", "type": "batch-response", "entry": entries}, pretty=wants_pretty(request))


@router.get("/Encounter/{id_}/$bhyt-xml")
async def bhyt_xml_op(request: Request, id_: str) -> Response:
    """The insurance envelope of a stored episode; ``standard=130|3176|4210`` (default: the one it came in)."""
    standard = request.query_params.get("standard")
    data = await export_bhyt(repo_of(request), id_, standard)
    return Response(content=data, media_type="application/xml; charset=utf-8")


@router.api_route("/$meta", methods=["GET", "POST"])
async def system_meta(request: Request) -> Response:
    """Every profile, tag and security label in use on what this token may see."""
    check_accept(request)
    return fhir_response(as_parameters(await meta_in_use(repo_of(request), None)), pretty=wants_pretty(request))


@router.api_route("/{type_:rtype}/$meta", methods=["GET", "POST"])
async def type_meta(request: Request, type_: str) -> Response:
    check_accept(request)
    return fhir_response(as_parameters(await meta_in_use(repo_of(request), type_)), pretty=wants_pretty(request))


@router.api_route("/{type_:rtype}/{id_}/$meta", methods=["GET", "POST"])
async def instance_meta_op(request: Request, type_: str, id_: str) -> Response:
    check_accept(request)
    return fhir_response(as_parameters(await instance_meta(repo_of(request), type_, id_)), pretty=wants_pretty(request))


@router.post("/{type_:rtype}/{id_}/$meta-add")
async def meta_add_op(request: Request, type_: str, id_: str) -> Response:
    """Add the profiles, tags and labels of the ``meta`` parameter; no new version (R4)."""
    return await _change_meta(request, type_, id_, added)


@router.post("/{type_:rtype}/{id_}/$meta-delete")
async def meta_delete_op(request: Request, type_: str, id_: str) -> Response:
    """Remove the profiles, tags and labels of the ``meta`` parameter; no new version (R4)."""
    return await _change_meta(request, type_, id_, deleted)


async def _change_meta(request: Request, type_: str, id_: str, how) -> Response:  # type: ignore[no-untyped-def]
    check_accept(request)
    repo = repo_of(request)
    change = meta_argument(await read_fhir_body(request, repo.settings))
    meta = await change_meta(repo, type_, id_, lambda current: how(current, change))
    return fhir_response(as_parameters(meta), pretty=wants_pretty(request))
